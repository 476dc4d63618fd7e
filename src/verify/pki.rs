//! The `pki_issue` check: a short certificate is issued and its chain is
//! checked up to the planned root.

use super::CheckError;
use crate::plan::model::PkiIssueCheck;
use crate::resources::Context;

pub(super) async fn pki_issue(_ctx: &Context, c: &PkiIssueCheck) -> Result<(), CheckError> {
    Err(format!(
        "pki_issue on {}/issue/{} is not implemented yet",
        c.mount, c.role
    )
    .into())
}
