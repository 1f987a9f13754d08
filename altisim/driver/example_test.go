package driver_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/aku-project/aku/altisim"
	_ "github.com/aku-project/aku/altisim/driver"
)

// Two pods of a StatefulSet as an in-process cluster: a session on the
// first, an unreachable third pod, and an Altibase error with its code.
func Example() {
	cluster := altisim.NewCluster("example", altisim.ClusterOptions{})
	defer cluster.Close()
	for _, host := range []string{"altibase-sts-0.altibase-svc", "altibase-sts-1.altibase-svc"} {
		if _, err := cluster.AddServer(host, altisim.Options{ReplicationPort: 20301}); err != nil {
			fmt.Println(err)
			return
		}
	}
	ctx := context.Background()
	open := func(host string) (*sql.Conn, error) {
		db, err := sql.Open("altisim", "CLUSTER=example;HOST="+host+";PORT=20300;UID=SYS;PWD=manager;PRIVILEGE=SYSDBA;CONNECT_TIMEOUT=1")
		if err != nil {
			return nil, err
		}
		return db.Conn(ctx)
	}

	conn, err := open("altibase-sts-0.altibase-svc")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	var n int64
	err = conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM SYSTEM_.SYS_REPLICATIONS_").Scan(&n)
	fmt.Println("replications:", n, err)

	_, err = conn.ExecContext(ctx, "ALTER REPLICATION AKU_REP_01 STOP")
	var ae *altisim.Error
	if errors.As(err, &ae) {
		fmt.Println("SQLSTATE", ae.SQLState())
	}

	_, err = open("altibase-sts-2.altibase-svc")
	fmt.Println(errors.Is(err, altisim.ErrNoSuchHost), err)
	// Output:
	// replications: 0 <nil>
	// SQLSTATE 6111B
	// true connecting to altibase-sts-2.altibase-svc: lookup altibase-sts-2.altibase-svc: no such host
}
