use super::*;

#[test]
fn a_lock_poisoned_by_a_panic_is_taken_as_it_is() {
    let shared = std::sync::Arc::new(Mutex::new(1));
    let held = shared.clone();
    let panicked = std::thread::spawn(move || {
        let mut value = held.lock().unwrap();
        *value = 2;
        panic!("poisons the lock");
    })
    .join();
    assert!(panicked.is_err() && shared.is_poisoned());
    assert_eq!(*lock(&shared), 2);
}
