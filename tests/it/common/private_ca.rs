//! A throwaway CA and a server certificate it signs, for the simulator serving HTTPS.

use std::sync::Arc;

/// The CA's PEM, and a server config for `names` signed by it.
pub fn private_ca(names: &[&str]) -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
    genesys_exporter::genesys::install_crypto_provider();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der.into())
        .unwrap();
    (ca_pem, Arc::new(config))
}
