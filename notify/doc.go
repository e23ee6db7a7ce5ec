// Package notify turns an incident's affected set into notices and delivers
// them: it plans (asking notify/law what each person is owed and storing
// the decisions), renders, and dispatches through channel senders it sees
// only as interfaces it declares itself.
//
// Every stage reads what the previous stage stored and is re-runnable: a
// plan replaces the previous plan in one transaction, and every state change
// commits together with its journal (ledger) entry.
package notify
