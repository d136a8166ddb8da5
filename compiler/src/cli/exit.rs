//! How a run ends: the exit statuses of lvsdr's contract, and the usage or IO failure
//! that ends a command early.

use lvsdr::Code;
use std::process::ExitCode;

/// The exit statuses `lvsdr --help` promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command did what it was asked and found nothing wrong.
    Success,
    /// 1: the manifest is invalid.
    Invalid,
    /// 1: something differs from what was expected: `compile --check` and
    /// `diff --exit-code` found a change, `verify` drift, `probe` a VIP that is not ok.
    Differs,
    /// 2: a usage or IO error.
    Error,
    /// `probe --format nagios`: the plugin convention's own status, 0 OK to 3 UNKNOWN.
    Plugin(u8),
}

impl ExitStatus {
    /// `Differs` when `differs`, else `Success`.
    pub fn differs_if(differs: bool) -> ExitStatus {
        if differs {
            ExitStatus::Differs
        } else {
            ExitStatus::Success
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Invalid | ExitStatus::Differs => 1,
            ExitStatus::Error => 2,
            ExitStatus::Plugin(code) => code,
        })
    }
}

/// A usage or IO failure: the command stops, and lvsdr exits 2 with this code and message.
#[derive(Debug)]
pub struct Failure {
    pub code: Code,
    pub message: String,
}

impl Failure {
    pub fn new(code: Code, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }

    /// A command line that asks for something lvsdr cannot do (E0040).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Code::UsageError, message)
    }

    /// Something could not be read (E0041).
    pub fn read(message: impl Into<String>) -> Failure {
        Failure::new(Code::ReadError, message)
    }

    /// Something could not be written (E0042).
    pub fn write(message: impl Into<String>) -> Failure {
        Failure::new(Code::WriteError, message)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error[{}]: {}", self.code, self.message)
    }
}

impl std::error::Error for Failure {}
