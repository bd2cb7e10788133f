package metrics

import "github.com/prometheus/client_golang/prometheus"

// Webhooks holds the webhook delivery metrics. It implements
// webhook.Observer.
type Webhooks struct {
	Attempts *prometheus.CounterVec
	Failures *prometheus.CounterVec
	Queue    prometheus.Gauge
}

// NewWebhooks registers the webhook metrics on m's registry; call it once
// per Metrics.
func (m *Metrics) NewWebhooks() *Webhooks {
	w := &Webhooks{
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clouddrive_webhook_deliveries_total",
			Help: "Webhook delivery attempts by result: delivered, retry (failed, another attempt scheduled) or dead."}, []string{"result"}),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clouddrive_webhook_failures_total",
			Help: "Failed webhook delivery attempts by reason: status (a non-2xx answer) or error (no answer, timeout)."}, []string{"reason"}),
		Queue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "clouddrive_webhook_queue_depth",
			Help: "Pending webhook deliveries (due or waiting for a retry), as last counted by this process."}),
	}
	m.Registry.MustRegister(w.Attempts, w.Failures, w.Queue)
	return w
}

// Attempted counts one delivery attempt.
func (w *Webhooks) Attempted(result, reason string) {
	w.Attempts.WithLabelValues(result).Inc()
	if reason != "" {
		w.Failures.WithLabelValues(reason).Inc()
	}
}

// Pending sets the queue depth.
func (w *Webhooks) Pending(n int64) { w.Queue.Set(float64(n)) }
