// Package notify turns an incident's affected set into notices and delivers
// them: it plans (asking notify/law what each person is owed and storing
// the decisions), renders email notices and dispatches them, and queues
// letter notices.
//
// notify imports no channel package. Email goes out through Transport and
// Conn, interfaces declared here (notice.go) and implemented by
// notify/email; cmd/breachnotice picks the concrete transport. Relays
// (relays.go) is a Transport over several, spreading the messages by weight
// with a circuit breaker per relay; each outcome names its relay in the
// notice row, the ledger entry and relay_counts. Letters
// leave notify as rows: QueueLetters (and QueueFallbackLetter, inside the
// email dispatcher's transaction) queues them in the notices table, and
// the letter channel, notify/letter/mailhouse, which imports notify,
// exports them to a mail house and applies its confirmation and
// returned-to-sender files; cmd/breachnotice calls it. The other project
// packages notify imports are incident, notify/law and notify/ledger, and
// three that import nothing of the project: templates, which renders the
// notices' content from props notify fills (NoticeFor); notify/dkim, which
// reads and applies a controller's signing key; and notify/bounce, which
// parses returned mail for ImportBounces.
//
// Every stage reads what the previous stage stored and is re-runnable: a
// plan replaces the previous plan in one transaction until sending starts
// (then the plan is fixed: MakePlan refuses, FindPlan reads it), and every
// state change commits together with its journal (ledger) entry.
package notify
