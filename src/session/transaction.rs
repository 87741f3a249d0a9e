//! Transaction blocks as DESIGN.md defines them: every statement commits on its own (one Delta
//! version), BEGIN/COMMIT are accepted for clients that send them, and a ROLLBACK that cannot undo
//! an already committed write says so with a WARNING instead of pretending.

use super::{CommandTag, Notice, Notices, QueryOutput};

/// The block state of one session.
#[derive(Debug, Default)]
pub struct Transaction {
    state: State,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Idle,
    Open {
        wrote: bool,
    },
    Failed {
        wrote: bool,
    },
}

impl Transaction {
    /// Inside BEGIN ... COMMIT (failed or not).
    pub fn in_block(&self) -> bool {
        self.state != State::Idle
    }

    /// An error happened inside the block.
    pub fn is_failed(&self) -> bool {
        matches!(self.state, State::Failed { .. })
    }

    /// BEGIN.
    pub fn begin(&mut self, notices: &mut Notices) -> QueryOutput {
        if self.in_block() {
            notices.push(Notice::warning(
                "25001",
                "there is already a transaction in progress",
            ));
        } else {
            self.state = State::Open { wrote: false };
        }
        QueryOutput::Command(CommandTag::Begin)
    }

    /// COMMIT: ends the block; a failed block ends as ROLLBACK, as in PostgreSQL.
    pub fn commit(&mut self, notices: &mut Notices) -> QueryOutput {
        let tag = match self.state {
            State::Idle => {
                notices.push(Notice::warning(
                    "25P01",
                    "there is no transaction in progress",
                ));
                CommandTag::Commit
            }
            State::Open { .. } => CommandTag::Commit,
            State::Failed { wrote } => {
                warn_if_wrote(wrote, notices);
                CommandTag::Rollback
            }
        };
        self.state = State::Idle;
        QueryOutput::Command(tag)
    }

    /// ROLLBACK: ends the block, warning when writes were already committed.
    pub fn rollback(&mut self, notices: &mut Notices) -> QueryOutput {
        match self.state {
            State::Idle => notices.push(Notice::warning(
                "25P01",
                "there is no transaction in progress",
            )),
            State::Open { wrote } | State::Failed { wrote } => warn_if_wrote(wrote, notices),
        }
        self.state = State::Idle;
        QueryOutput::Command(CommandTag::Rollback)
    }

    /// A statement inside the block committed a write.
    pub fn record_write(&mut self) {
        if let State::Open { wrote } = &mut self.state {
            *wrote = true;
        }
    }

    /// A statement inside the block failed.
    pub fn fail(&mut self) {
        if let State::Open { wrote } = self.state {
            self.state = State::Failed { wrote };
        }
    }
}

fn warn_if_wrote(wrote: bool, notices: &mut Notices) {
    if wrote {
        notices.push(Notice::warning(
            "01000",
            "ROLLBACK cannot undo writes in this block: each statement was already committed as its own Delta version",
        ));
    }
}
