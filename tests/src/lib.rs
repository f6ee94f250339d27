//! Harness for Tend's black-box tests (in `tests/tests/`): the real API server started on port 0
//! over a fresh database for each backend under test, and a minimal HTTP/1.1 client so tests can
//! also send what well-behaved clients never send (broken JSON, wrong content types, huge bodies).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

use serde_json::Value;
use tend::RunningServer;
use tend_store::testing::{test_databases, TestClock, TestDatabase};
use tend_store::Store;

pub const ADMIN_EMAIL: &str = "admin@tend.local";
pub const ADMIN_PASSWORD: &str = "admin password for tests";
pub const USER_PASSWORD: &str = "a long enough password";

/// A running Tend server over its own database.
#[derive(Debug)]
pub struct TestApp {
    pub address: SocketAddr,
    pub clock: Arc<TestClock>,
    pub store: Store,
    pub admin_token: String,
    /// The site created on first start.
    pub main_site_id: String,
    // Dropped first: stop the server before the database goes away.
    _server: RunningServer,
    pub database: TestDatabase,
}

/// One app per backend under test: SQLite always, PostgreSQL when `TEND_TEST_POSTGRES_URL` is set.
pub fn spawn_apps() -> Vec<TestApp> {
    test_databases().into_iter().map(TestApp::spawn).collect()
}

/// Runs `test` against a fresh app on each backend under test.
pub fn on_each_backend(test: impl Fn(&TestApp)) {
    for app in spawn_apps() {
        test(&app);
    }
}

/// A reply from the server.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "status {}: body is not JSON ({error}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Asserts the status and the API's error shape, and returns the error object.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        let body = self.json();
        assert_eq!(self.status, status, "{body}");
        let error = &body["error"];
        assert_eq!(error["code"], code, "{body}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        error.clone()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

impl TestApp {
    pub fn spawn(database: TestDatabase) -> TestApp {
        let clock = TestClock::starting_now();
        let store = database.open(clock.clone());
        let bootstrap = store
            .bootstrap("Asia/Shanghai", Some(ADMIN_PASSWORD.into()))
            .unwrap()
            .expect("a fresh database is bootstrapped");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = RunningServer::start(store.clone(), listener).unwrap();
        let mut app = TestApp {
            address: server.address(),
            clock,
            store,
            admin_token: String::new(),
            main_site_id: bootstrap.site.id.to_string(),
            _server: server,
            database,
        };
        app.admin_token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD);
        app
    }

    /// Sends one request; `body` goes out as-is with the given headers.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Response {
        let mut stream = TcpStream::connect(self.address).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.address
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or_default();
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).unwrap();
        // A server may answer (413) and close before reading a large body: that is fine.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => raw.extend_from_slice(&buffer[..read]),
                Err(_) if !raw.is_empty() => break,
                Err(error) => panic!("reading the response: {error}"),
            }
        }
        parse_response(&raw)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Response {
        let auth = token.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|auth| vec![("Authorization", auth)])
            .unwrap_or_default();
        self.send("GET", path, &headers, None)
    }

    pub fn json_request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        self.json_request_with(method, path, token, body, &[])
    }

    pub fn json_request_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
        extra_headers: &[(&str, &str)],
    ) -> Response {
        let auth = token.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(auth) = auth.as_deref() {
            headers.push(("Authorization", auth));
        }
        headers.extend_from_slice(extra_headers);
        self.send(method, path, &headers, Some(body.to_string().as_bytes()))
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.json_request("POST", path, token, body)
    }

    pub fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.json_request("PATCH", path, token, body)
    }

    /// Logs in and returns the bearer token.
    pub fn login(&self, email: &str, password: &str) -> String {
        let response = self.post(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"email": email, "password": password}),
        );
        let body = response.assert_status(200);
        body["token"].as_str().unwrap().to_owned()
    }

    /// Creates a site as the administrator and returns its id.
    pub fn create_site(&self, name: &str) -> String {
        let body = self
            .post(
                "/api/v1/sites",
                Some(&self.admin_token),
                &serde_json::json!({"name": name, "time_zone": "Europe/Madrid"}),
            )
            .assert_status(201);
        body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a user in `role` at `site_id` as the administrator and returns their token.
    pub fn user(&self, email: &str, role: &str, site_id: &str) -> String {
        self.post(
            "/api/v1/users",
            Some(&self.admin_token),
            &serde_json::json!({"email": email, "role": role, "site_id": site_id, "password": USER_PASSWORD}),
        )
        .assert_status(201);
        self.login(email, USER_PASSWORD)
    }

    /// Registers a client at the main site as the administrator and returns its id.
    pub fn client(&self, fields: Value) -> String {
        let mut fields = fields;
        fields["site_id"] = Value::String(self.main_site_id.clone());
        let body = self
            .post("/api/v1/clients", Some(&self.admin_token), &fields)
            .assert_status(201);
        body["client"]["id"].as_str().unwrap().to_owned()
    }
}

fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = data.windows(2).position(|window| window == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        body.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    body
}
