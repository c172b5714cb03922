//! Misbehaves on purpose, for the host's tests: `/misbehave/trap` panics (a trap),
//! `/misbehave/loop` spins forever (stopped by the time limit), `/misbehave/oom` allocates
//! without end (stopped by the memory limit), anything else answers 200 `ok`.

#[cfg(target_arch = "wasm32")]
mod component {
    use spin_sdk::http::{IntoResponse, Request};

    #[spin_sdk::http_service]
    async fn handle(req: Request) -> impl IntoResponse {
        match req.uri().path() {
            "/misbehave/trap" => panic!("trapping on purpose"),
            "/misbehave/loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/misbehave/oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            _ => "ok\n".to_string(),
        }
    }
}
