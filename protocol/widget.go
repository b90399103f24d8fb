package protocol

import "maunium.net/go/mautrix/event"

// WidgetEventType is a room widget as Element Web and Element Desktop read
// it (MSC1236; the state key is the widget's id). rathaus adds the ticket
// widget to case rooms with a ticket.
var WidgetEventType = event.Type{Type: "im.vector.modular.widgets", Class: event.StateEventType}

// TicketWidgetID is the state key and id of the ticket widget.
const TicketWidgetID = "de.rathaus.ticket"

// WidgetContent is the content of an im.vector.modular.widgets event.
type WidgetContent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// URL is the widget's page with the widget API's template variables
	// ($matrix_room_id, …), which the client fills in: hints, never
	// identity.
	URL  string `json:"url"`
	Name string `json:"name"`
	// CreatorUserID is who added the widget (the bot).
	CreatorUserID string `json:"creatorUserId"`
	// WaitForIframeLoad false: the page says when it is ready
	// (content_loaded), then the client starts the widget API.
	WaitForIframeLoad bool           `json:"waitForIframeLoad"`
	Data              map[string]any `json:"data"`
}
