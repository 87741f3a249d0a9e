//! The S3 stand-in the object-storage tests run against: moto's S3 server on loopback (from
//! tests/requirements.txt), serialised by tests/s3_standin.py so its conditional writes are
//! atomic, with one bucket, `lake`. Each test starts its own.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use deltagres::config::Config;

use crate::support::{TestServer, free_port, run_python};

/// A running S3 stand-in; killed when dropped.
pub struct S3 {
    port: u16,
    child: Child,
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3 {
    /// Starts the stand-in with one bucket, `lake`.
    pub fn start(extra: &[&str]) -> Self {
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3_standin.py");
        let child = Command::new(crate::support::require_tool("python3"))
            .arg(script)
            .arg("--port")
            .arg(port.to_string())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the S3 stand-in starts (pip install -r tests/requirements.txt)");
        let s3 = Self { port, child };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the S3 stand-in did not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        s3.python(r#"s3.create_bucket(Bucket="lake")"#);
        s3
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs Python with `s3` a boto3 client of the stand-in.
    pub fn python(&self, code: &str) -> String {
        run_python(&format!(
            "import boto3\ns3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='test', \
             aws_secret_access_key='test', region_name='us-east-1')\n{code}",
            self.endpoint()
        ))
    }

    /// The options the deltalake package needs to read the stand-in.
    pub fn python_storage_options(&self) -> String {
        format!(
            "{{'AWS_ENDPOINT_URL': '{}', 'AWS_ALLOW_HTTP': 'true', 'AWS_ACCESS_KEY_ID': 'test', \
             'AWS_SECRET_ACCESS_KEY': 'test', 'AWS_REGION': 'us-east-1'}}",
            self.endpoint()
        )
    }

    /// The server config for a data directory at `s3://lake/<prefix>`.
    pub fn configure(&self, config: &mut Config, prefix: &str) {
        config.storage.data_dir = format!("s3://lake/{prefix}").into();
        config.storage.s3.endpoint = Some(self.endpoint());
        config.storage.s3.allow_http = true;
        config.storage.s3.region = Some("us-east-1".into());
        config.storage.s3.access_key_id = Some("test".into());
        config.storage.s3.secret_access_key = Some("s3cr3t-test-key".into());
        config.storage.allowed_paths = vec!["s3://lake/external".into()];
    }

    pub async fn server(&self, prefix: &str) -> TestServer {
        TestServer::start_with(Path::new(&format!("s3://lake/{prefix}")), |c| {
            self.configure(c, prefix)
        })
        .await
    }
}
