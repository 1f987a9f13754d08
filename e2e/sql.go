package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/alexbrainman/odbc" // the ODBC driver: the tests reach the pods as aku does
)

// connString fills an ODBC connection template for the pod's server.
func (c *Cluster) connString(template string, ordinal int) string {
	return strings.NewReplacer("{host}", c.net.podIP(ordinal), "{port}", "20300", "{user}", "SYS", "{password}", c.password).Replace(template)
}

// Session is one ODBC connection to a pod's server, from the host.
type Session struct {
	db   *sql.DB
	conn *sql.Conn
}

// Connect opens a session on the pod's server as SYS, with SYSDBA privilege
// when sysdba is true (the only way in while ADMIN_MODE = 1; it holds the
// server's one SYSDBA slot until Close).
func (c *Cluster) Connect(ctx context.Context, ordinal int, sysdba bool) (*Session, error) {
	t := normalTemplate
	if sysdba {
		t = sysdbaTemplate
	}
	db, err := sql.Open("odbc", c.connString(t, ordinal))
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.PodName(ordinal), err)
	}
	db.SetMaxIdleConns(0)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to %s: %w", c.PodName(ordinal), err)
	}
	if err := conn.PingContext(ctx); err != nil {
		conn.Close()
		db.Close()
		return nil, fmt.Errorf("connecting to %s: %w", c.PodName(ordinal), err)
	}
	return &Session{db: db, conn: conn}, nil
}

// Close ends the session.
func (s *Session) Close() error {
	err := s.conn.Close()
	if err2 := s.db.Close(); err == nil {
		err = err2
	}
	return err
}

// Exec runs a statement. It goes through QueryContext, which the ODBC
// driver can cancel (docs/odbc.md, "Statements run through QueryContext").
func (s *Session) Exec(ctx context.Context, stmt string) error {
	_, err := s.Query(ctx, stmt)
	return err
}

// Query runs a statement and returns its rows, every value as text ("NULL"
// for NULL).
func (s *Session) Query(ctx context.Context, stmt string) ([][]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rows, err := s.conn.QueryContext(ctx, stmt)
	if err != nil {
		if strings.Contains(err.Error(), "Stmt did not create a result set") {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", stmt, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stmt, err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				row[i] = "NULL"
			case []byte:
				row[i] = string(v)
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", stmt, err)
	}
	return out, nil
}

// Query opens a session on the pod's server (SYSDBA when sysdba), runs
// stmt and closes the session.
func (c *Cluster) Query(ctx context.Context, ordinal int, sysdba bool, stmt string) ([][]string, error) {
	s, err := c.Connect(ctx, ordinal, sysdba)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Query(ctx, stmt)
}

// Replication is one row of SYSTEM_.SYS_REPLICATIONS_.
type Replication struct {
	Name    string
	XSN     int64
	Started bool
}

// Replications reads the pod's replication objects, by name, through an
// ordinary session, or a SYSDBA one when sysdba is true (the only way in
// while the server is in ADMIN_MODE = 1, as after a failed start; it must
// not run while aku does, which needs the one SYSDBA slot:
// docs/behaviour.md, "A busy SYSDBA session").
func (c *Cluster) Replications(ctx context.Context, ordinal int, sysdba bool) (map[string]Replication, error) {
	rows, err := c.Query(ctx, ordinal, sysdba, "SELECT REPLICATION_NAME, XSN, IS_STARTED FROM SYSTEM_.SYS_REPLICATIONS_")
	if err != nil {
		return nil, fmt.Errorf("reading the replications of %s: %w", c.PodName(ordinal), err)
	}
	out := map[string]Replication{}
	for _, r := range rows {
		var xsn, started int64
		if _, err := fmt.Sscan(r[1], &xsn); err != nil {
			return nil, fmt.Errorf("reading the replications of %s: XSN %q of %s: %w", c.PodName(ordinal), r[1], r[0], err)
		}
		if _, err := fmt.Sscan(r[2], &started); err != nil {
			return nil, fmt.Errorf("reading the replications of %s: IS_STARTED %q of %s: %w", c.PodName(ordinal), r[2], r[0], err)
		}
		out[r[0]] = Replication{Name: r[0], XSN: xsn, Started: started == 1}
	}
	return out, nil
}

// Keys returns the integer first column (the primary key I1 of the example
// schema) of every row of table on the pod, sorted: a row held twice shows
// twice.
func (c *Cluster) Keys(ctx context.Context, ordinal int, table string) ([]int, error) {
	rows, err := c.Query(ctx, ordinal, false, "SELECT I1 FROM "+table)
	if err != nil {
		return nil, fmt.Errorf("reading the keys of %s on %s: %w", table, c.PodName(ordinal), err)
	}
	out := make([]int, 0, len(rows))
	for _, r := range rows {
		k, err := strconv.Atoi(r[0])
		if err != nil {
			return nil, fmt.Errorf("reading the keys of %s on %s: key %q: %w", table, c.PodName(ordinal), r[0], err)
		}
		out = append(out, k)
	}
	sort.Ints(out)
	return out, nil
}
