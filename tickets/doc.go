// Package tickets is the OZG ticket of a case room after the hand-over:
// status webhooks to the online service (through the outbox), the
// FIT-Connect submission status that callbacks bring in, and the staff's
// ticket actions (the ticket widget's and the `!rathaus ticket` commands).
// It meets cases through small interfaces and never imports widgets or
// internal/app; the hand-over itself (verifying contexts) is package ozg.
package tickets
