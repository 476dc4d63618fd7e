//! What the job itself needs: the minimal Vault policy for its token
//! (`vault-converge policy`) and the Kubernetes RBAC to read exactly the
//! secrets its `secretKeyRef`s name (`vault-converge rbac`).

mod auth;
mod eso;
mod identity;
mod pki;
mod policy;
mod prune;
mod rbac;
mod system;
mod tokens;

pub use policy::policy_hcl;
pub use rbac::{rbac_yaml, secret_refs};
