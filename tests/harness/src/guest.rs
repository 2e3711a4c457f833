//! The guest components under test.

use std::path::PathBuf;

include!(concat!(env!("OUT_DIR"), "/guests.rs"));

/// A guest component from `tests/guests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guest {
    /// Well-behaved channel + back-office plugin exercising every capability.
    Echo,
    /// Spins forever in `normalize`.
    Spin,
    /// Allocates without end in `normalize`.
    Alloc,
    /// Panics in `normalize`.
    Panic,
    /// GETs the URL in the event body.
    ForbiddenHttp,
    /// Tries to read files and environment variables.
    FsEnv,
    /// Returns 100 MiB of text.
    BigOutput,
    /// Sleeps in a host call for the milliseconds in the event body.
    SlowHost,
}

impl Guest {
    /// The plugin id the guest's `describe` reports.
    pub fn id(self) -> &'static str {
        match self {
            Guest::Echo => "echo",
            Guest::Spin => "spin",
            Guest::Alloc => "alloc",
            Guest::Panic => "panic",
            Guest::ForbiddenHttp => "forbidden-http",
            Guest::FsEnv => "fs-env",
            Guest::BigOutput => "big-output",
            Guest::SlowHost => "slow-host",
        }
    }

    /// The `.wasm` file.
    pub fn path(self) -> PathBuf {
        let file = format!("guest_{}.wasm", self.id().replace('-', "_"));
        PathBuf::from(GUEST_DIR).join(file)
    }

    /// The component bytes.
    pub fn bytes(self) -> Vec<u8> {
        let path = self.path();
        std::fs::read(&path)
            .unwrap_or_else(|e| panic!("guest {} not built at {}: {e}", self.id(), path.display()))
    }
}
