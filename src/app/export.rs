//! `export`: the same connection and login as every command, then the
//! server read into a plan.

use super::{session, RunError};
use crate::export::{self, Export, Options};
use crate::settings::Settings;

pub async fn export(settings: &Settings, options: &Options) -> Result<Export, RunError> {
    let (vault, _) = session(settings).await?;
    let result = export::export(&vault, options).await;
    // The token from our login must not outlive the run, whatever happened.
    super::signals::revoke_login_token().await;
    Ok(result?)
}
