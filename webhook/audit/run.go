package audit

import (
	"context"
	"fmt"
	"time"
)

// RunOnce audits now: it reviews the Source's objects, writes the reports,
// emits Events and updates the metrics. Start calls it; it is exported for
// tests and for tools that audit once. Concurrent calls run one at a time.
func (a *Auditor) RunOnce(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	began := time.Now()
	now := a.now()
	ev, err := a.evaluate(ctx, a.cfg.Source.Objects())
	if err != nil {
		a.observeDuration(began)
		return fmt.Errorf("auditing: %w", err)
	}
	changed, writeErr := a.writeReports(ctx, ev.scopes, now)
	violations := ev.violations()
	events := a.emitEvents(violations, now)
	a.observe(violations, began, writeErr == nil)
	a.cfg.Log.Info("audit finished", "objects", ev.objects, "violations", len(violations),
		"reports", len(ev.scopes), "reportsChanged", changed, "events", events, "duration", time.Since(began).Round(time.Millisecond))
	return writeErr
}

// observe updates the metrics after an audit. AuditViolations is the last
// audit's count per policy and severity; the violations counter counts each
// (policy, object) violation once, at the audit that first finds it.
// AuditLastRun moves only when the reports were written too.
func (a *Auditor) observe(violations []outcome, began time.Time, complete bool) {
	found := make(map[string]struct{}, len(violations))
	m := a.cfg.Metrics
	if m != nil {
		m.AuditViolations.Reset()
	}
	for _, o := range violations {
		key := o.policy.ID + "\x00" + objectKey(o.subject)
		found[key] = struct{}{}
		if m == nil {
			continue
		}
		m.AuditViolations.WithLabelValues(o.policy.ID, o.severity.String()).Inc()
		if _, old := a.found[key]; !old {
			m.Violations.WithLabelValues(o.policy.ID, o.severity.String(), "audit").Inc()
		}
	}
	a.found = found
	a.observeDuration(began)
	if m != nil && complete {
		m.AuditLastRun.Set(float64(a.now().Unix()))
	}
}

func (a *Auditor) observeDuration(began time.Time) {
	if a.cfg.Metrics != nil {
		a.cfg.Metrics.AuditDuration.Observe(time.Since(began).Seconds())
	}
}
