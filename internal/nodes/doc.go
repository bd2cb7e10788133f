// Package nodes implements the Amazon Cloud Drive semantics of the node
// tree once, over the meta and blob contracts: creating folders, uploading
// and overwriting files, renaming, moving, several parents, trash, restore,
// purge, properties, listing with filters and paging.
//
// Decisions where ACD's behaviour is unknown (rclone's acd backend,
// go-acd and acd_cli need what is written here):
//
//   - Names are unique among the AVAILABLE children of a folder, compared
//     after Unicode case folding. TRASH nodes never block a name; rename,
//     add-parent and remove-parent on a TRASH node make no name checks
//     (rclone's move fallback relies on that); restore checks and fails
//     with 409 when the name has been taken meanwhile.
//   - Trashing a folder takes along every descendant that is not reachable
//     through some other AVAILABLE parent; they remember the node they were
//     trashed with (TrashRoot) and are restored with it. The trash listing
//     shows only nodes trashed directly.
//   - Removing the last parent of a node re-attaches it to the root, so no
//     node ever becomes unreachable.
//   - Purge (DELETE /nodes/{id}, bulk purge) is allowed to the owner, on
//     AVAILABLE and TRASH nodes alike. It removes the node and every
//     descendant not reachable otherwise. Purged nodes stay as tombstones
//     (status PURGED, with id, kind and name but no parents, labels or
//     content) so the changes feed can report them with includePurged;
//     rclone's change notifications use the name to invalidate its cache.
//   - Creating a node under a TRASH folder gives 409: its children would be
//     invisible.
//   - Deduplication: without suppress=deduplication, uploading a non-empty
//     file whose MD5 equals an AVAILABLE file of the same user gives 409
//     with code CONTENT_ALREADY_EXISTS and the existing node id. Overwrite
//     never deduplicates (rclone overwrites without the parameter).
//   - Every mutation of a node bumps its version and modifiedDate and takes
//     the next number of the user's change counter in the same transaction,
//     so the changes feed returns nodes in commit order.
//   - contentType comes from the name's extension when the client sends
//     none or application/octet-stream (go-acd always does).
package nodes
