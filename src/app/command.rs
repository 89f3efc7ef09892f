//! What a page asks of the shell. Pages draw from a read-only [`State`](super::state::State)
//! and their own struct; every change they want — to the workspace, the cache, the jobs, the
//! current page or another page's selection — is a [`Command`] sent through a
//! [`CommandSender`]. The shell applies the commands of a frame once, in one place
//! (`app::shell::apply`), after the page has drawn.

use std::cell::RefCell;
use std::ops::Deref;
use std::path::PathBuf;

use crate::engine::analysis::{Key, Request, RowFilter};
use crate::engine::package::{ModelCard, SignOff};
use crate::engine::progress::Progress;
use crate::engine::report::notes::Finding;
use crate::engine::workspace::Workspace;
use crate::engine::EngineError;

use super::jobs::{Done, JobKey};
use super::state::{CompareView, Page, State};

/// The work of a job a page starts (sealing, verifying, creating a key).
pub type JobWork = Box<dyn FnOnce(&Progress) -> Result<Done, EngineError> + Send>;

/// An edit of the workspace; `Err` is shown as an error and changes nothing else.
pub type Edit = Box<dyn FnOnce(&mut Workspace) -> Result<(), String>>;

/// One thing a page asks for.
pub enum Command {
    /// Show a page.
    Goto(Page),
    /// Make model `i` the focus model.
    SelectModel(usize),
    /// The Data page, on dataset `dataset` (index into `workspace.datasets`), scrolled to the
    /// 1-based file row `row`.
    OpenRow {
        dataset: usize,
        row: usize,
    },
    /// The Evaluate page filtered to a weak slice (`None`: all rows).
    ShowSlice(Option<RowFilter>),
    /// The Drift page on the reference against some rows of the log (a monitoring chunk).
    ShowDriftRows {
        rows: RowFilter,
    },
    /// The Compare page on one of its views.
    ShowCompare(CompareView),
    /// Run an analysis unless it is cached (ready, running or failed).
    Request(Box<Request>),
    /// Forget a failed or cancelled analysis so the page asks for it again.
    Retry(Key),
    /// Forget an analysis whatever its state (its inputs changed).
    Forget(Key),
    /// Load a model or dataset again after its load failed.
    RetryFile(PathBuf),
    /// Summarise a column of a loaded dataset.
    Distribution {
        path: PathBuf,
        column: String,
    },
    /// Read a page of rows of a dataset too large to hold (its preview).
    ReadPage {
        path: PathBuf,
        page: usize,
    },
    /// Change the workspace (marks it unsaved).
    Edit(Edit),
    /// Pin a reviewer note.
    AddNote {
        finding: Finding,
        text: String,
        author: String,
    },
    RemoveNote(String),
    /// Open the note dialog on these findings (plus the whole review).
    OpenNote(Vec<Finding>),
    /// Record a sign-off in the workspace and the audit log.
    SignOff(Box<SignOff>),
    /// The model card the package carries (drafted or edited).
    SetCard(Box<ModelCard>),
    /// Append to the session's audit log.
    Audit {
        action: String,
        details: serde_json::Value,
    },
    /// Start a job (sealing or verifying forgets the last result first).
    Spawn {
        key: JobKey,
        title: String,
        work: JobWork,
    },
    /// Export the review report to a file.
    ExportReport(PathBuf),
    Error(String),
    DismissError(u64),
    DismissAllErrors,
    /// A confirmation for the status bar.
    Message(String),
}

/// Where pages send their commands during a frame.
#[derive(Default)]
pub struct CommandSender {
    queue: RefCell<Vec<Command>>,
}

impl CommandSender {
    pub fn send(&self, command: Command) {
        self.queue.borrow_mut().push(command);
    }

    /// Shorthand for [`Command::Request`] of a planned analysis (`None`: not plannable yet).
    pub fn request(&self, request: Option<Request>) {
        if let Some(r) = request {
            self.send(Command::Request(Box::new(r)));
        }
    }

    /// Shorthand for [`Command::Edit`].
    pub fn edit(&self, edit: impl FnOnce(&mut Workspace) + 'static) {
        self.send(Command::Edit(Box::new(move |ws| {
            edit(ws);
            Ok(())
        })));
    }

    /// The commands sent so far, in order.
    pub fn take(&self) -> Vec<Command> {
        std::mem::take(&mut *self.queue.borrow_mut())
    }
}

/// What a page reads: the whole state, read-only.
pub struct PageCtx<'a> {
    pub state: &'a State,
}

impl<'a> PageCtx<'a> {
    pub fn new(state: &'a State) -> Self {
        Self { state }
    }
}

impl Deref for PageCtx<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        self.state
    }
}
