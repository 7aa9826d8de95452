package audit

import (
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
)

// Event reason and action of the Events on violating objects.
const (
	EventReason = "PolicyViolation"
	EventAction = "Audit"
)

// maxNoteBytes is the limit of an events.k8s.io/v1 Event's note.
const maxNoteBytes = 1024

// eventKey is one policy on one object.
type eventKey struct {
	object string
	policy string
}

// eventLimiter keeps a periodic audit from repeating the same Event: at
// most one per object and policy every `every`.
type eventLimiter struct {
	every time.Duration
	sent  map[eventKey]time.Time
}

// allow reports whether an Event for key may be sent now, and if so
// records it as sent.
func (l *eventLimiter) allow(key eventKey, now time.Time) bool {
	if last, ok := l.sent[key]; ok && now.Sub(last) < l.every {
		return false
	}
	l.sent[key] = now
	return true
}

// forget drops keys whose Event may be sent again, so the map holds only
// recent Events.
func (l *eventLimiter) forget(now time.Time) {
	for k, last := range l.sent {
		if now.Sub(last) >= l.every {
			delete(l.sent, k)
		}
	}
}

// emitEvents sends a Warning Event on each violating object, failures
// first, within the per-object rate and the per-audit cap. It returns how
// many it sent.
func (a *Auditor) emitEvents(violations []outcome, now time.Time) int {
	if a.cfg.Recorder == nil || a.cfg.MaxEventsPerRun < 0 {
		return 0
	}
	a.events.forget(now)
	sent := 0
	for _, o := range violations {
		if sent >= a.cfg.MaxEventsPerRun {
			break
		}
		if !a.events.allow(eventKey{object: objectKey(o.subject), policy: o.policy.ID}, now) {
			continue
		}
		regarding := o.subject
		a.cfg.Recorder.Eventf(&regarding, nil, corev1.EventTypeWarning, EventReason, EventAction, "%s", truncate(o.policy.ID+": "+o.message, maxNoteBytes))
		sent++
	}
	return sent
}

// objectKey identifies an object across audits: by UID when it has one, so
// a deleted and recreated object is a new one.
func objectKey(ref corev1.ObjectReference) string {
	if ref.UID != "" {
		return string(ref.UID)
	}
	return ref.APIVersion + "/" + ref.Kind + "/" + ref.Namespace + "/" + ref.Name
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "..."
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
