package protocol

// SubmissionStatus is the status of a FIT-Connect submission (Einreichung)
// as the delivery service's event log states it and a verified callback
// reports it (tickets, docs/ozg.md). "incomplete" is left out: a
// submission the sender has not sent yet reaches no one.
type SubmissionStatus string

const (
	// SubmissionSubmitted: the online service has sent the submission.
	SubmissionSubmitted SubmissionStatus = "submitted"
	// SubmissionForwarded: an intermediary took it on, the receiving
	// authority has not got it yet.
	SubmissionForwarded SubmissionStatus = "forwarded"
	// SubmissionRejected: the receiver refused it (technically; this is
	// no decision on the application).
	SubmissionRejected SubmissionStatus = "rejected"
	// SubmissionAccepted: the receiver took it (technically; this is no
	// decision on the application either).
	SubmissionAccepted SubmissionStatus = "accepted"
)

// Valid reports whether s is a known submission status.
func (s SubmissionStatus) Valid() bool { return s.Rank() > 0 }

// Rank orders the statuses along FIT-Connect's status model (submitted →
// forwarded → accepted | rejected); 0 for an unknown one. A status never
// goes back, so a report of a rank at or below the current one is stale.
func (s SubmissionStatus) Rank() int {
	switch s {
	case SubmissionSubmitted:
		return 1
	case SubmissionForwarded:
		return 2
	case SubmissionRejected, SubmissionAccepted:
		return 3
	}
	return 0
}

// Notice is the NoticeKindKey of the bot's notice that the submission
// reached s: "submission_forwarded" etc.
func (s SubmissionStatus) Notice() string { return "submission_" + string(s) }

// SubmissionStatusKey carries the submission status in the bot's notice
// about it, beside its NoticeKindKey.
const SubmissionStatusKey = "de.rathaus.submission_status"

// SubmissionNotices are the notice kinds of a submission's status, for the
// guest chat and its tests.
var SubmissionNotices = []string{SubmissionSubmitted.Notice(), SubmissionForwarded.Notice(),
	SubmissionRejected.Notice(), SubmissionAccepted.Notice()}
