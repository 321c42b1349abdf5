use super::*;

#[test]
fn agent_ids_are_their_queues_with_the_index_in_the_last_four_hex_digits() {
    let queue = "2aa6c0c9-e93b-48b7-95be-9a4f956094d2";
    assert_eq!(agent_id(queue, 0), "2aa6c0c9-e93b-48b7-95be-9a4f95600000");
    assert_eq!(agent_id(queue, 11), "2aa6c0c9-e93b-48b7-95be-9a4f9560000b");
    assert_eq!(agent_id(queue, 11).len(), queue.len());
}
