package protocol

// Keys rathaus adds to the content of the events it sends, so that it,
// its widgets and a federated peer can recognise them.
const (
	// TxnIDKey carries the Matrix transaction id of every event rathaus
	// sends, so that after a crash rathaus can recognise its own event in
	// the room (see appservice.Sender).
	TxnIDKey = "de.rathaus.txn_id"
	// GuestTxnKey carries the citizen's client transaction id in the
	// content of their messages, so the guest chat can match its pending
	// message to the event.
	GuestTxnKey = "de.rathaus.guest_txn"
	// NoticeKindKey marks the bot's notices whose meaning the guest chat
	// shows in its own words, in the citizen's language.
	NoticeKindKey = "de.rathaus.notice"
	// AnnouncedCaseKey carries the case reference in the bot's
	// announcement of a waiting case in a staff room, so that a reply to
	// the announcement can claim the case without naming it.
	AnnouncedCaseKey = "de.rathaus.announced_case"
)

// NoticeCaseworkerJoined is the NoticeKindKey of the notice that a
// caseworker is now there for the citizen.
const NoticeCaseworkerJoined = "caseworker_joined"
