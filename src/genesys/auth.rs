//! PLACEHOLDER: token cache being implemented.
