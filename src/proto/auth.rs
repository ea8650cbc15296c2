// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Who we are to the camera: the credentials every authentication (SOAP, the tunnel's
//! legs, RTSP) is answered with.

/// Credentials; `Debug` never shows the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_debug_hides_the_password() {
        let c = Credentials {
            user: "admin".into(),
            password: "s3cret".into(),
        };
        let shown = format!("{c:?}");
        assert!(shown.contains("admin"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
