package cases

import (
	"fmt"

	"github.com/rathaus-de/rathaus/protocol"
)

// CaseAction is something that happens to a case.
type CaseAction string

const (
	// ActionClaim: a caseworker takes a queued case.
	ActionClaim CaseAction = "claim"
	// ActionAwaitCitizen: the caseworker waits for the citizen's answer.
	ActionAwaitCitizen CaseAction = "await_citizen"
	// ActionCitizenReply: the citizen wrote while awaited.
	ActionCitizenReply CaseAction = "citizen_reply"
	// ActionResolve: the caseworker considers the matter settled.
	ActionResolve CaseAction = "resolve"
	// ActionClose: the citizen or the caseworker ends the conversation.
	ActionClose CaseAction = "close"
	// ActionReopen: a caseworker takes a resolved or closed case up again.
	ActionReopen CaseAction = "reopen"
	// ActionTransfer: the case moves to another department and waits there.
	ActionTransfer CaseAction = "transfer"
	// ActionHandOver: the case goes to another authority.
	ActionHandOver CaseAction = "hand_over"
	// ActionAbandon: the citizen was inactive past the configured time.
	ActionAbandon CaseAction = "abandon"
	// ActionPurge: the retention period ended.
	ActionPurge CaseAction = "purge"
)

// caseTransitions is the whole state machine: for each action, the
// statuses it may start from and the status it leads to.
var caseTransitions = map[CaseAction]struct {
	from []protocol.CaseStatus
	to   protocol.CaseStatus
}{
	ActionClaim:        {[]protocol.CaseStatus{protocol.CaseQueued}, protocol.CaseActive},
	ActionAwaitCitizen: {[]protocol.CaseStatus{protocol.CaseActive}, protocol.CaseAwaitingCitizen},
	ActionCitizenReply: {[]protocol.CaseStatus{protocol.CaseAwaitingCitizen}, protocol.CaseActive},
	ActionResolve:      {[]protocol.CaseStatus{protocol.CaseActive, protocol.CaseAwaitingCitizen}, protocol.CaseResolved},
	ActionClose: {[]protocol.CaseStatus{protocol.CaseQueued, protocol.CaseActive, protocol.CaseAwaitingCitizen,
		protocol.CaseResolved}, protocol.CaseClosed},
	ActionReopen:   {[]protocol.CaseStatus{protocol.CaseResolved, protocol.CaseClosed}, protocol.CaseActive},
	ActionTransfer: {[]protocol.CaseStatus{protocol.CaseQueued, protocol.CaseActive, protocol.CaseAwaitingCitizen}, protocol.CaseQueued},
	ActionHandOver: {[]protocol.CaseStatus{protocol.CaseQueued, protocol.CaseActive, protocol.CaseAwaitingCitizen}, protocol.CaseTransferred},
	ActionAbandon:  {[]protocol.CaseStatus{protocol.CaseQueued, protocol.CaseActive, protocol.CaseAwaitingCitizen}, protocol.CaseAbandoned},
	ActionPurge:    {[]protocol.CaseStatus{protocol.CaseClosed, protocol.CaseAbandoned, protocol.CaseTransferred}, protocol.CasePurged},
}

// words is a text for staff, German and English.
type words struct{ de, en string }

// String is the text as staff read it, "deutsch / English".
func (w words) String() string { return w.de + " / " + w.en }

var caseStatusNames = map[protocol.CaseStatus]words{
	protocol.CaseQueued:          {"wartet auf Bearbeitung", "queued"},
	protocol.CaseActive:          {"in Bearbeitung", "active"},
	protocol.CaseAwaitingCitizen: {"wartet auf Antwort der Bürgerin oder des Bürgers", "awaiting citizen"},
	protocol.CaseResolved:        {"erledigt", "resolved"},
	protocol.CaseClosed:          {"geschlossen", "closed"},
	protocol.CaseAbandoned:       {"verlassen", "abandoned"},
	protocol.CaseTransferred:     {"abgegeben", "transferred"},
	protocol.CasePurged:          {"gelöscht", "purged"},
}

// transitionError is ErrIllegalTransition with the reason in the words
// staff read.
type transitionError struct{ reason words }

func (e *transitionError) Error() string { return e.reason.String() }
func (e *transitionError) Unwrap() error { return ErrIllegalTransition }

// NextCaseStatus applies an action to a status. An illegal step is refused
// with an error that says why, in words staff can read.
func NextCaseStatus(from protocol.CaseStatus, action CaseAction) (protocol.CaseStatus, error) {
	t, ok := caseTransitions[action]
	if !ok {
		return "", &transitionError{words{fmt.Sprintf("Unbekannte Aktion %q.", action), "Unknown action."}}
	}
	for _, f := range t.from {
		if f == from {
			return t.to, nil
		}
	}
	status, verb := caseStatusNames[from], actionVerb[action]
	return "", &transitionError{words{
		fmt.Sprintf("Ein Fall im Status „%s“ kann nicht %s werden.", status.de, verb.de),
		fmt.Sprintf("A case that is %s cannot be %s.", status.en, verb.en)}}
}

var actionVerb = map[CaseAction]words{
	ActionClaim:        {"übernommen", "claimed"},
	ActionAwaitCitizen: {"auf die Antwort der Bürgerin oder des Bürgers gesetzt", "set to wait for the citizen"},
	ActionCitizenReply: {"von der Bürgerin oder dem Bürger beantwortet", "answered by the citizen"},
	ActionResolve:      {"erledigt", "resolved"},
	ActionClose:        {"geschlossen", "closed"},
	ActionReopen:       {"wieder geöffnet", "reopened"},
	ActionTransfer:     {"an eine andere Abteilung abgegeben", "transferred to another department"},
	ActionHandOver:     {"an eine andere Behörde abgegeben", "handed over to another authority"},
	ActionAbandon:      {"als verlassen markiert", "marked abandoned"},
	ActionPurge:        {"gelöscht", "purged"},
}

// FormatReference builds a human case reference (Aktenzeichen) such as
// BAU-2026-00042 from a department prefix, the year and the department's
// running number in that year.
func FormatReference(prefix string, year, seq int) string {
	return fmt.Sprintf("%s-%04d-%05d", prefix, year, seq)
}
