package acd

// Webhooks are a clouddrive extension; ACD had none. An app subscribes
// with POST webhooks (NewWebhook) and then receives, for every change of a
// node, a POST of a WebhookEvent to its URL, signed as the Webhook*
// headers describe (client.VerifyWebhook checks a delivery).

// Webhook event types.
const (
	// EventNodeCreated: a folder or file was created (an upload sends
	// EventContentUploaded too).
	EventNodeCreated = "node.created"
	// EventContentUploaded: a new file got its first content.
	EventContentUploaded = "content.uploaded"
	// EventContentOverwritten: a file's content was replaced.
	EventContentOverwritten = "content.overwritten"
	// EventNodeUpdated: metadata changed: name, parents (move, add or
	// remove a parent), labels, description or properties.
	EventNodeUpdated = "node.updated"
	// EventNodeTrashed: the node went to the trash (directly or with a
	// folder above it).
	EventNodeTrashed = "node.trashed"
	// EventNodeRestored: the node came back from the trash.
	EventNodeRestored = "node.restored"
	// EventNodePurged: the node was deleted for good; the event carries
	// the node as it was just before.
	EventNodePurged = "node.purged"
)

// WebhookEventTypes lists every event type, in a stable order.
func WebhookEventTypes() []string {
	return []string{EventNodeCreated, EventContentUploaded, EventContentOverwritten, EventNodeUpdated,
		EventNodeTrashed, EventNodeRestored, EventNodePurged}
}

// Headers of a webhook delivery.
const (
	// WebhookTimestampHeader holds the Unix time (seconds) of the attempt.
	WebhookTimestampHeader = "X-Clouddrive-Timestamp"
	// WebhookSignatureHeader holds "v1=" and the lowercase hex
	// HMAC-SHA256, keyed with the subscription secret, of the timestamp,
	// a '.', and the body. Several comma-separated v1= values may appear.
	WebhookSignatureHeader = "X-Clouddrive-Signature"
	// WebhookEventHeader holds the event type.
	WebhookEventHeader = "X-Clouddrive-Event"
	// WebhookDeliveryHeader holds the delivery id, the same on every
	// retry and replay of one event to one subscription.
	WebhookDeliveryHeader = "X-Clouddrive-Delivery"
)

// WebhookEvent is the JSON body of a webhook delivery. ID is stable: a
// retry or replay sends the same body, so receivers deduplicate on it.
type WebhookEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Timestamp is when the change committed (TimeFormat).
	Timestamp string `json:"timestamp"`
	UserID    string `json:"userId"`
	// Node is the node as the API returns it after the change (before
	// it, for node.purged).
	Node *Node `json:"node"`
	// Checkpoint is the changes-feed checkpoint of the change: POST
	// changes with it returns what changed after this event.
	Checkpoint string `json:"checkpoint"`
}

// NewWebhook is the body of POST webhooks.
type NewWebhook struct {
	URL string `json:"url"`
	// Secret keys the signatures; empty lets the server generate one.
	Secret string `json:"secret,omitempty"`
	// Events filters the event types sent; empty sends all.
	Events []string `json:"events,omitempty"`
}

// Webhook is a subscription as the API returns it. Secret is present only
// in the reply of POST webhooks.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	AppID       string   `json:"appId"`
	UserID      string   `json:"userId,omitempty"`
	Secret      string   `json:"secret,omitempty"`
	CreatedDate string   `json:"createdDate"`
}

// WebhookList is the reply of GET webhooks.
type WebhookList struct {
	Count int64      `json:"count"`
	Data  []*Webhook `json:"data"`
}
