package altisim

// ReplMessage is one message of the replication protocol between a sender
// and a peer's receiver. Every field is exported and JSON-encodable, so that
// any Transport (in-process or TCP) can carry it unchanged.
type ReplMessage struct {
	// Kind is the message type, e.g. "handshake" or "apply".
	Kind string `json:"kind"`
	// Replication is the replication object's name, the same on both servers.
	Replication string `json:"replication"`
	// From is the sending server's host name.
	From string `json:"from,omitempty"`
	// Error, in a reply, is the receiver's refusal (nil when it accepted).
	Error *Error `json:"error,omitempty"`
}
