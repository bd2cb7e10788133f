// Package webhook delivers node events to the apps that subscribe to them
// (a clouddrive extension; ACD had no webhooks).
//
// # Subscriptions
//
// An app (OAuth client) subscribes for one user through the API (POST
// /drive/v1/webhooks with one of the user's tokens), or, through `clouddrive
// admin webhook add`, for every user who granted it: who holds a token of
// the app that is neither revoked nor expired when the change commits. A
// subscription has a URL, a secret and an event filter (Service).
//
// # Outbox
//
// Package nodes reports every change to an EventSink inside the
// transaction that makes it; Outbox is that sink. When the user's changes
// have subscribers, it writes the event (its JSON body, rendered once) and
// one pending delivery per matching subscription in that same
// transaction. An event therefore exists exactly when its change
// committed: none is lost by a crash after the commit, and none is sent
// for a change that rolled back.
//
// # Delivery
//
// A Dispatcher claims due deliveries with a lease (so several replicas on
// one PostgreSQL database share the work without sending one delivery
// twice at once), POSTs each body with a timeout and at most PerEndpoint
// requests in flight per destination host (host name and port, however
// many URLs of that host are subscribed), and records the attempt. A 2xx answer
// delivers it; anything else (another status, a redirect, an error, a
// timeout) schedules a retry 5 minutes, 1 hour and 12 hours after the
// previous attempt, and after the fourth failed attempt the delivery is
// dead. `clouddrive admin webhook replay` makes a delivery pending again.
// Delivery is at least once: the event id in the body is the same on every
// attempt and replay, so receivers deduplicate on it.
//
// # Signature
//
// Each attempt carries X-Clouddrive-Timestamp (Unix seconds at sending)
// and X-Clouddrive-Signature: "v1=" and the hex HMAC-SHA256, keyed with
// the subscription secret, of the timestamp, '.', and the body. Receivers
// check it with client.VerifyWebhook, which also rejects timestamps
// outside a tolerance (replays). X-Clouddrive-Event names the event type
// and X-Clouddrive-Delivery the delivery.
//
// Time comes from the injected clock only, so tests drive the retry
// schedule without sleeping and trigger passes with Dispatcher.RunOnce.
package webhook
