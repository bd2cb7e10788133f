package acd

// Error codes: the Code of an Error reply, as ACD sent them. Clients test
// them to tell one 409 (or 403) from another; the server sets them and the
// SDK reads them, both from this list.
const (
	// CodeNameAlreadyExists: a node of that name is already in the parent
	// (409; Info.NodeID is the node holding the name).
	CodeNameAlreadyExists = "NAME_ALREADY_EXISTS"
	// CodeContentAlreadyExists: an upload of content the user already
	// stores, without suppress=deduplication (409; Info.NodeID is the
	// node holding it).
	CodeContentAlreadyExists = "CONTENT_ALREADY_EXISTS"
	// CodeLocalIDAlreadyUsed: another node already has the localId given
	// (409; Info.NodeID is that node).
	CodeLocalIDAlreadyUsed = "LOCAL_ID_ALREADY_USED"
	// CodeNodeNotAvailable: the node is in the trash, and the request
	// needs an available one (409).
	CodeNodeNotAvailable = "NODE_NOT_AVAILABLE"
	// CodeParentNotAvailable: a parent named in the request is in the
	// trash (409).
	CodeParentNotAvailable = "PARENT_NOT_AVAILABLE"
	// CodeLastParent: the request would remove the last parent of a node
	// in the root folder; trash it instead (409).
	CodeLastParent = "LAST_PARENT"
	// CodeQuotaExceeded: the upload would take more space than the quota
	// leaves (403).
	CodeQuotaExceeded = "QUOTA_EXCEEDED"
)
