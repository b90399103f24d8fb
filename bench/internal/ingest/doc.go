// Package ingest is the ingest benchmark behind `go run ./bench/ingest`: it
// builds rathaus and the bare mautrix appservice (bench/bareas), runs each
// as a real process, pushes the same appservice transactions to each over
// HTTP as a homeserver would, and reports how fast and at what cost they
// are handled, side by side.
//
// A run is one workload against one target, on a fresh process (and, for
// rathaus, a fresh database). Runs are interleaved: per repetition, every
// workload, then every target, so drift on the machine hits all targets
// alike. The report is a markdown table of medians (min–max over the
// repetitions) with the ratio to the bare appservice.
//
// What is measured, per run:
//
//   - events/s handled: N / (time from the first PUT to the moment the
//     target reports N events handled: rathaus's
//     rathaus_appservice_events_processed_total on its metrics listener,
//     bareas's GET /count);
//   - ack latency p50/p99: per transaction, from the first PUT until the
//     200, as the harness (the homeserver) sees it, retries included;
//   - CPU per 1,000 events: utime+stime of the target process over the
//     same interval, from /proc; for PostgreSQL also the server's processes
//     (the postmaster, its live children and those it reaped);
//   - peak RSS: VmHWM of the target process at the end of the run.
//
// rathaus is a black box: the real binary with a config written here, a
// real Dendrite for the bot's registration at start, SQLite (rathaus's own
// synchronous=FULL) or a local PostgreSQL 15 with its durable defaults. The
// registration's URL points nowhere, so the only transactions rathaus gets
// are the harness's. The harness sends m.room.message events of about 400
// bytes from one normal user into 50 rooms rathaus does not manage.
package ingest
