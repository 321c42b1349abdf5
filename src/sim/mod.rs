//! The embedded Genesys Cloud simulator. PLACEHOLDER: being implemented.
