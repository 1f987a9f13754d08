package conf

import (
	"errors"
	"time"
)

// ErrInvalid is wrapped by every error that reports a configuration the
// user must fix (syntax, meaning, missing or unknown property).
var ErrInvalid = errors.New("invalid configuration")

// Config is a validated aku.conf. Durations and flags are already converted
// from the file's integers; every name is a valid Altibase identifier.
type Config struct {
	// File is the path the configuration was read from, for messages.
	File string

	StsName     string // AKU_STS_NAME
	SvcName     string // AKU_SVC_NAME
	ServerCount int    // AKU_SERVER_COUNT, 1..6

	SysUser     string // always "SYS"
	SysPassword string // AKU_SYS_PASSWORD after overrides
	// PasswordSource says where SysPassword came from: "file", "environment"
	// or "secret file".
	PasswordSource string

	PortNo            int // AKU_PORT_NO
	ReplicationPortNo int // AKU_REPLICATION_PORT_NO

	QueryTimeout    time.Duration // AKU_QUERY_TIMEOUT
	QueryRetryCount int64         // AKU_QUERY_RETRY_COUNT, 0 = no retry
	QueryRetryDelay time.Duration // AKU_QUERY_RETRY_DELAY_MSEC

	AddressCheckCount int // AKU_ADDRESS_CHECK_COUNT, >= 1

	FlushAtStart bool // AKU_FLUSH_AT_START
	// FlushTimeoutAtStart is AKU_FLUSH_TIMEOUT_AT_START: 0 means FLUSH ALL,
	// more means FLUSH WAIT <seconds>.
	FlushTimeoutAtStart time.Duration
	DelayStartComplete  time.Duration // AKU_DELAY_START_COMPLETE_TIME

	FlushAtEnd bool // AKU_FLUSH_AT_END
	// ReplicationResetAtEnd is AKU_REPLICATION_RESET_AT_END = 1 or 2: a
	// slave's end resets its pairs; with 2 (ResetOnlyWhenLeaving, an aku
	// extension) only unless Kubernetes says the pod comes back
	// (docs/behaviour.md, "end").
	ReplicationResetAtEnd bool
	ResetOnlyWhenLeaving  bool

	// KubernetesPublish is AKU_KUBERNETES_PUBLISH (an aku extension): label
	// this pod with its role and whether it replicates, and record each
	// start's and end's outcome as an Event on it, through the Kubernetes
	// API (docs/behaviour.md, "Kubernetes").
	KubernetesPublish bool

	// ObserveTimeout is AKU_OBSERVE_TIMEOUT (an aku extension): how long
	// reading one server's state may take before that server counts as
	// not answering; separate from AKU_QUERY_TIMEOUT, which bounds long
	// statements such as SYNC and FLUSH.
	ObserveTimeout time.Duration
	// SysdbaWait is AKU_SYSDBA_WAIT_TIME (an aku extension): how long a
	// start waits for a server whose one SYSDBA session is taken (another
	// pod's aku, an operator's isql -sysdba) before it fails.
	SysdbaWait time.Duration

	// StalePeerTTL is AKU_STALE_PEER_TTL (an aku extension): how long a
	// peer's name may fail to resolve before the in-pod manager releases
	// this pod's pairs with it (docs/behaviour.md, "Stale peers"); 0, the
	// default, never releases, and a returning pod's start then behaves as
	// the original's.
	StalePeerTTL time.Duration

	// ConnectionString is the ODBC connection-string template
	// (AKU_CONNECTION_STRING, an aku extension) with {host}, {port}, {user}
	// and {password} placeholders; empty means the built-in Altibase default.
	ConnectionString string
	// MonitorConnectionString is AKU_MONITOR_CONNECTION_STRING (an aku
	// extension): the template of the ordinary (non-SYSDBA) sessions of
	// aku status and aku probe; empty means ConnectionString's (or the
	// default's) ordinary form, without its PRIVILEGE=SYSDBA.
	MonitorConnectionString string

	// Groups are the REPLICATIONS groups in file order.
	Groups []Group
}

// Group is one REPLICATIONS group: the objects PREFIX_ij replicate Items.
type Group struct {
	Prefix            string // REPLICATION_NAME_PREFIX, <= 37 bytes
	SyncParallelCount int    // SYNC_PARALLEL_COUNT, 1..100
	Items             []Item
	Pos               Position
}

// Item is one replicated table or table partition.
type Item struct {
	User      string
	Table     string
	Partition string // empty for a whole table
	Pos       Position
}

// Position is a place in a configuration file (1-based line and column).
type Position struct {
	File   string
	Line   int
	Column int
}

// Warning is something aku accepts but the user should change, such as the
// legacy key AKU_SYS_PASWWORD or a password file readable by others.
type Warning struct {
	Pos     Position // zero when the warning is not about a place in the file
	Message string
}
