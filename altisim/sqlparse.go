package altisim

import (
	"fmt"
	"strconv"
	"strings"
)

// The statements the simulator understands (docs/altisim.md, "SQL" and
// "Replication objects"). Parsing is a small recursive descent over lex's
// tokens.

type qname struct{ user, name string } // user "" = the session user

type colDef struct {
	name string
	typ  string // INTEGER, BIGINT, SMALLINT, VARCHAR, CHAR
	size int
	pk   bool
}

type (
	createTableStmt struct {
		name qname
		cols []colDef
		pk   []string
		part *partitionClause // PARTITION BY ...; nil: not partitioned
	}
	dropTableStmt struct{ name qname }
	// truncateTableStmt is TRUNCATE TABLE t, or with part ALTER TABLE t
	// TRUNCATE PARTITION part.
	truncateTableStmt struct {
		name qname
		part string
	}
	insertStmt struct {
		table qname
		cols  []string
		rows  [][]expr
	}
	setClause struct {
		col string
		e   expr
	}
	updateStmt struct {
		table qname
		sets  []setClause
		where expr
	}
	deleteStmt struct {
		table qname
		where expr
	}
	selItem struct {
		star  bool
		count bool // COUNT(*)
		e     expr
		alias string
	}
	orderItem struct {
		col  string
		desc bool
	}
	selectStmt struct {
		items []selItem
		from  *qname
		where expr
		order []orderItem
	}
	replItem struct {
		localUser, localTable, localPart    string
		remoteUser, remoteTable, remotePart string
	}
	replHost struct {
		IP   string `json:"ip"`
		Port int    `json:"port"`
	}
	createReplStmt struct {
		name    string
		mode    string // LAZY or EAGER
		role    string // "", MASTER or SLAVE
		options []string
		hosts   []replHost
		items   []replItem
	}
	alterReplStmt struct {
		name     string
		action   string // START, QUICKSTART, STOP, RESET, SYNC, FLUSH, ADD TABLE, DROP TABLE
		retry    bool
		only     bool // SYNC ONLY
		parallel int
		tables   []replItem // SYNC ... TABLE, ADD/DROP TABLE
		all      bool       // FLUSH ALL
		wait     int        // FLUSH WAIT n; -1 = no WAIT
	}
	dropReplStmt struct{ name string }
	setPropStmt  struct {
		system bool
		name   string
		num    int64
		word   string // non-numeric value such as DEFAULT or NONE
		isNum  bool
	}
	txStmt struct{ kind string } // COMMIT, ROLLBACK
)

type expr interface{}

type (
	litExpr struct{ v Value }
	colExpr struct{ name string }
	binExpr struct {
		op   string
		l, r expr
	}
	notExpr    struct{ e expr }
	isNullExpr struct {
		e   expr
		not bool
	}
)

type parser struct {
	sql  string
	toks []token
	i    int
}

// parse parses exactly one statement; a trailing ';' is tolerated.
func parse(sql string) (any, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	p := &parser{sql: sql, toks: toks}
	st, err := p.statement()
	if err != nil {
		return nil, err
	}
	p.accept(";")
	if p.peek().kind != tokEOF {
		return nil, p.errf("unexpected %q after the end of the statement", p.peek().text)
	}
	return st, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// isWord reports whether the next token is the keyword or punctuation w.
func (p *parser) isWord(w string) bool {
	t := p.peek()
	return (t.kind == tokIdent || t.kind == tokPunct) && t.text == w
}

func (p *parser) accept(w string) bool {
	if p.isWord(w) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(ws ...string) error {
	for _, w := range ws {
		if !p.accept(w) {
			return p.errf("%s expected", w)
		}
	}
	return nil
}

func (p *parser) errf(format string, args ...any) error {
	return syntaxError(p.sql, p.peek().pos, fmt.Sprintf(format, args...))
}

func (p *parser) ident() (string, error) {
	t := p.peek()
	if t.kind != tokIdent && t.kind != tokQuoted {
		return "", p.errf("identifier expected")
	}
	p.i++
	return t.text, nil
}

func (p *parser) qname() (qname, error) {
	a, err := p.ident()
	if err != nil {
		return qname{}, err
	}
	if p.accept(".") {
		b, err := p.ident()
		if err != nil {
			return qname{}, err
		}
		return qname{a, b}, nil
	}
	return qname{"", a}, nil
}

func (p *parser) number() (int64, error) {
	neg := p.accept("-")
	t := p.peek()
	if t.kind != tokNumber {
		return 0, p.errf("number expected")
	}
	p.i++
	n, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil {
		return 0, p.errf("number out of range")
	}
	if neg {
		n = -n
	}
	return n, nil
}

func (p *parser) statement() (any, error) {
	switch {
	case p.accept("CREATE"):
		if p.accept("TABLE") {
			return p.createTable()
		}
		mode := "LAZY"
		if p.accept("EAGER") {
			mode = "EAGER"
		} else {
			p.accept("LAZY")
		}
		if err := p.expect("REPLICATION"); err != nil {
			return nil, err
		}
		return p.createRepl(mode)
	case p.accept("DROP"):
		if p.accept("TABLE") {
			n, err := p.qname()
			return &dropTableStmt{n}, err
		}
		if err := p.expect("REPLICATION"); err != nil {
			return nil, err
		}
		n, err := p.ident()
		return &dropReplStmt{n}, err
	case p.accept("TRUNCATE"):
		if err := p.expect("TABLE"); err != nil {
			return nil, err
		}
		n, err := p.qname()
		return &truncateTableStmt{name: n}, err
	case p.accept("INSERT"):
		return p.insert()
	case p.accept("UPDATE"):
		return p.update()
	case p.accept("DELETE"):
		return p.delete()
	case p.accept("SELECT"):
		return p.selectStmt()
	case p.accept("ALTER"):
		switch {
		case p.accept("REPLICATION"):
			return p.alterRepl()
		case p.accept("SYSTEM"):
			return p.setProp(true)
		case p.accept("SESSION"):
			return p.setProp(false)
		case p.accept("TABLE"):
			return p.alterTable()
		}
		return nil, p.errf("REPLICATION, SYSTEM, SESSION or TABLE expected")
	case p.accept("COMMIT"):
		p.accept("WORK")
		return &txStmt{"COMMIT"}, nil
	case p.accept("ROLLBACK"):
		p.accept("WORK")
		return &txStmt{"ROLLBACK"}, nil
	}
	return nil, p.errf("parse error")
}

func (p *parser) createTable() (any, error) {
	st := &createTableStmt{}
	var err error
	if st.name, err = p.qname(); err != nil {
		return nil, err
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	for {
		if p.accept("PRIMARY") {
			if err := p.expect("KEY"); err != nil {
				return nil, err
			}
			cols, err := p.identList()
			if err != nil {
				return nil, err
			}
			st.pk = cols
		} else {
			c, err := p.colDef()
			if err != nil {
				return nil, err
			}
			st.cols = append(st.cols, c)
		}
		if p.accept(")") {
			return st, p.tableOptions(st)
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
}

// tableOptions parses what may follow a CREATE TABLE column list:
// TABLESPACE name, and PARTITION BY (SQL Reference, CREATE TABLE:
// table_partitioning_clause).
func (p *parser) tableOptions(st *createTableStmt) error {
	for {
		switch {
		case p.accept("TABLESPACE"):
			if _, err := p.ident(); err != nil {
				return err
			}
		case st.part == nil && p.accept("PARTITION"):
			c, err := p.partitionClause()
			if err != nil {
				return err
			}
			st.part = c
		default:
			return nil
		}
	}
}

// partitionClause parses BY RANGE|LIST|HASH (cols) (PARTITION p [VALUES
// LESS THAN (v, ...) | VALUES (v, ...) | VALUES DEFAULT] [TABLESPACE ts],
// ...): range partitions take LESS THAN, list partitions a value list,
// hash partitions nothing. A partition's tablespace is ignored.
func (p *parser) partitionClause() (*partitionClause, error) {
	if err := p.expect("BY"); err != nil {
		return nil, err
	}
	c := &partitionClause{}
	switch t := p.peek(); t.text {
	case methodRange, methodList, methodHash:
		c.method = t.text
		p.i++
	default:
		return nil, p.errf("RANGE, LIST or HASH expected")
	}
	var err error
	if c.cols, err = p.identList(); err != nil {
		return nil, err
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	for {
		if err := p.expect("PARTITION"); err != nil {
			return nil, err
		}
		var d partitionDef
		if d.name, err = p.ident(); err != nil {
			return nil, err
		}
		switch {
		case p.accept("VALUES"):
			switch {
			case p.accept("DEFAULT"):
				d.dflt = true
			case c.method == methodRange:
				if err := p.expect("LESS", "THAN"); err != nil {
					return nil, err
				}
				d.lessThan, err = p.valueList()
			case c.method == methodList:
				d.values, err = p.valueList()
			default:
				return nil, p.errf("DEFAULT expected")
			}
			if err != nil {
				return nil, err
			}
		case c.method != methodHash:
			return nil, p.errf("VALUES expected")
		}
		if p.accept("TABLESPACE") {
			if _, err := p.ident(); err != nil {
				return nil, err
			}
		}
		c.parts = append(c.parts, d)
		if p.accept(")") {
			return c, nil
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
}

// valueList parses ( value, ... ) of partition conditions: numbers and
// strings.
func (p *parser) valueList() ([]Value, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var out []Value
	for {
		switch t := p.peek(); {
		case t.kind == tokString:
			p.i++
			out = append(out, t.text)
		case t.kind == tokNumber || t.kind == tokPunct && t.text == "-":
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		default:
			return nil, p.errf("partition condition value expected")
		}
		if p.accept(")") {
			return out, nil
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
}

// alterTable parses the rest of ALTER TABLE [user.]t TRUNCATE PARTITION p
// (SQL Reference, ALTER TABLE: truncate_table_partition), the only ALTER
// TABLE the simulator runs.
func (p *parser) alterTable() (any, error) {
	n, err := p.qname()
	if err != nil {
		return nil, err
	}
	if !p.isWord("TRUNCATE") {
		return nil, p.errf("unsupported ALTER TABLE action: only TRUNCATE PARTITION is simulated")
	}
	p.i++
	if err := p.expect("PARTITION"); err != nil {
		return nil, err
	}
	part, err := p.ident()
	if err != nil {
		return nil, err
	}
	return &truncateTableStmt{name: n, part: part}, nil
}

func (p *parser) identList() ([]string, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var out []string
	for {
		n, err := p.ident()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if p.accept(")") {
			return out, nil
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
}

func (p *parser) colDef() (colDef, error) {
	var c colDef
	var err error
	if c.name, err = p.ident(); err != nil {
		return c, err
	}
	t, err := p.ident()
	if err != nil {
		return c, err
	}
	switch t {
	case "INTEGER", "INT":
		c.typ = "INTEGER"
	case "BIGINT", "SMALLINT":
		c.typ = t
	case "VARCHAR", "CHAR":
		c.typ = t
		if err := p.expect("("); err != nil {
			return c, err
		}
		n, err := p.number()
		if err != nil {
			return c, err
		}
		if n < 1 || n > 32000 {
			return c, p.errf("invalid length %d", n)
		}
		c.size = int(n)
		if err := p.expect(")"); err != nil {
			return c, err
		}
	default:
		return c, p.errf("unsupported data type %s", t)
	}
	for {
		switch {
		case p.accept("PRIMARY"):
			if err := p.expect("KEY"); err != nil {
				return c, err
			}
			c.pk = true
		case p.accept("NOT"):
			if err := p.expect("NULL"); err != nil {
				return c, err
			}
		case p.accept("NULL"):
		default:
			return c, nil
		}
	}
}

func (p *parser) insert() (any, error) {
	if err := p.expect("INTO"); err != nil {
		return nil, err
	}
	st := &insertStmt{}
	var err error
	if st.table, err = p.qname(); err != nil {
		return nil, err
	}
	if p.isWord("(") {
		if st.cols, err = p.identList(); err != nil {
			return nil, err
		}
	}
	if err := p.expect("VALUES"); err != nil {
		return nil, err
	}
	for {
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var row []expr
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			row = append(row, e)
			if p.accept(")") {
				break
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		st.rows = append(st.rows, row)
		if !p.accept(",") {
			return st, nil
		}
	}
}

func (p *parser) update() (any, error) {
	st := &updateStmt{}
	var err error
	if st.table, err = p.qname(); err != nil {
		return nil, err
	}
	if err := p.expect("SET"); err != nil {
		return nil, err
	}
	for {
		c, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		st.sets = append(st.sets, setClause{c, e})
		if !p.accept(",") {
			break
		}
	}
	if p.accept("WHERE") {
		if st.where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (p *parser) delete() (any, error) {
	if err := p.expect("FROM"); err != nil {
		return nil, err
	}
	st := &deleteStmt{}
	var err error
	if st.table, err = p.qname(); err != nil {
		return nil, err
	}
	if p.accept("WHERE") {
		if st.where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (p *parser) selectStmt() (any, error) {
	st := &selectStmt{}
	for {
		var it selItem
		switch {
		case p.accept("*"):
			it.star = true
		case p.isWord("COUNT") && p.toks[p.i+1].text == "(":
			p.i += 2
			if err := p.expect("*", ")"); err != nil {
				return nil, err
			}
			it.count = true
		default:
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			it.e = e
		}
		if p.accept("AS") {
			a, err := p.ident()
			if err != nil {
				return nil, err
			}
			it.alias = a
		} else if t := p.peek(); !it.star && (t.kind == tokQuoted || t.kind == tokIdent && t.text != "FROM") {
			it.alias = t.text
			p.i++
		}
		st.items = append(st.items, it)
		if !p.accept(",") {
			break
		}
	}
	if p.accept("FROM") {
		n, err := p.qname()
		if err != nil {
			return nil, err
		}
		st.from = &n
		// A table alias (FROM SYSTEM_.SYS_REPLICATIONS_ A): columns are
		// resolved by name, so the alias is only skipped.
		if t := p.peek(); t.kind == tokQuoted || t.kind == tokIdent && t.text != "WHERE" && t.text != "ORDER" {
			p.i++
		}
	}
	var err error
	if p.accept("WHERE") {
		if st.where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.accept("ORDER") {
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			c, err := p.ident()
			if err != nil {
				return nil, err
			}
			o := orderItem{col: c}
			if p.accept("DESC") {
				o.desc = true
			} else {
				p.accept("ASC")
			}
			st.order = append(st.order, o)
			if !p.accept(",") {
				break
			}
		}
	}
	return st, nil
}

// expr parses a condition or value: OR of AND of NOT of comparisons of
// sums of primaries.
func (p *parser) expr() (expr, error) {
	l, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for p.accept("OR") {
		r, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		l = &binExpr{"OR", l, r}
	}
	return l, nil
}

func (p *parser) andExpr() (expr, error) {
	l, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	for p.accept("AND") {
		r, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		l = &binExpr{"AND", l, r}
	}
	return l, nil
}

func (p *parser) notExpr() (expr, error) {
	if p.accept("NOT") {
		e, err := p.notExpr()
		return &notExpr{e}, err
	}
	l, err := p.sum()
	if err != nil {
		return nil, err
	}
	if p.accept("IS") {
		not := p.accept("NOT")
		if err := p.expect("NULL"); err != nil {
			return nil, err
		}
		return &isNullExpr{l, not}, nil
	}
	for _, op := range []string{"=", "<>", "!=", "<=", ">=", "<", ">"} {
		if p.accept(op) {
			r, err := p.sum()
			if err != nil {
				return nil, err
			}
			if op == "!=" {
				op = "<>"
			}
			return &binExpr{op, l, r}, nil
		}
	}
	return l, nil
}

func (p *parser) sum() (expr, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		op := ""
		if p.accept("+") {
			op = "+"
		} else if p.accept("-") {
			op = "-"
		} else {
			return l, nil
		}
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		l = &binExpr{op, l, r}
	}
}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch {
	case t.kind == tokNumber || t.kind == tokPunct && t.text == "-":
		n, err := p.number()
		return &litExpr{n}, err
	case t.kind == tokString:
		p.i++
		return &litExpr{t.text}, nil
	case t.kind == tokIdent && t.text == "NULL":
		p.i++
		return &litExpr{nil}, nil
	case t.kind == tokIdent || t.kind == tokQuoted:
		p.i++
		name := t.text
		for p.accept(".") { // t.col: the simulator's queries have one table
			n, err := p.ident()
			if err != nil {
				return nil, err
			}
			name = n
		}
		return &colExpr{name}, nil
	case p.accept("("):
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	}
	return nil, p.errf("expression expected")
}

// createRepl parses the rest of CREATE [LAZY|EAGER] REPLICATION
// (Altibase Replication Manual, "CREATE REPLICATION").
func (p *parser) createRepl(mode string) (any, error) {
	st := &createReplStmt{mode: mode}
	var err error
	if st.name, err = p.ident(); err != nil {
		return nil, err
	}
	if p.accept("AS") {
		switch {
		case p.accept("MASTER"):
			st.role = "MASTER"
		case p.accept("SLAVE"):
			st.role = "SLAVE"
		default:
			return nil, p.errf("MASTER or SLAVE expected")
		}
	}
	if p.accept("OPTIONS") {
		for !p.isWord("WITH") && p.peek().kind != tokEOF {
			t := p.next()
			if t.kind == tokIdent {
				st.options = append(st.options, t.text)
			}
		}
	}
	if err := p.expect("WITH"); err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokString {
			return nil, p.errf("remote host expected")
		}
		p.i++
		if err := p.expect(","); err != nil {
			return nil, err
		}
		port, err := p.number()
		if err != nil {
			return nil, err
		}
		if p.accept("USING") {
			if _, err := p.ident(); err != nil {
				return nil, err
			}
			if p.peek().kind == tokNumber {
				p.i++
			}
		}
		st.hosts = append(st.hosts, replHost{t.text, int(port)})
		if !p.accept(",") {
			break
		}
	}
	items, err := p.fromToList()
	if err != nil {
		return nil, err
	}
	st.items = items
	return st, nil
}

func (p *parser) fromToList() ([]replItem, error) {
	var items []replItem
	for {
		if err := p.expect("FROM"); err != nil {
			return nil, err
		}
		var it replItem
		var err error
		if it.localUser, it.localTable, it.localPart, err = p.tableRef(); err != nil {
			return nil, err
		}
		if err := p.expect("TO"); err != nil {
			return nil, err
		}
		at := p.i
		if it.remoteUser, it.remoteTable, it.remotePart, err = p.tableRef(); err != nil {
			return nil, err
		}
		// A table replicates to a table, a partition to a partition
		// (Replication Manual, ch. 1 "Considerations"): Altibase's grammar
		// has no mixed item.
		if (it.localPart == "") != (it.remotePart == "") {
			p.i = at
			return nil, p.errf("both sides of an item name a partition, or neither does")
		}
		items = append(items, it)
		if !p.accept(",") {
			return items, nil
		}
	}
}

// tableRef parses user.table [PARTITION p]; replication items name the
// user explicitly (Altibase Replication Manual, "CREATE REPLICATION").
func (p *parser) tableRef() (user, table, part string, err error) {
	at := p.i
	n, err := p.qname()
	if err != nil {
		return "", "", "", err
	}
	if n.user == "" {
		p.i = at
		return "", "", "", p.errf("user.table expected")
	}
	if p.accept("PARTITION") {
		if part, err = p.ident(); err != nil {
			return "", "", "", err
		}
	}
	return n.user, n.name, part, nil
}

func (p *parser) alterRepl() (any, error) {
	st := &alterReplStmt{wait: -1, parallel: 1}
	var err error
	if st.name, err = p.ident(); err != nil {
		return nil, err
	}
	t, err := p.ident()
	if err != nil {
		return nil, err
	}
	st.action = t
	switch t {
	case "START", "QUICKSTART":
		st.retry = p.accept("RETRY")
	case "STOP", "RESET":
	case "SYNC":
		st.only = p.accept("ONLY")
		if p.accept("PARALLEL") {
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			st.parallel = int(n)
		}
		if p.accept("TABLE") {
			for {
				var it replItem
				if it.localUser, it.localTable, it.localPart, err = p.tableRef(); err != nil {
					return nil, err
				}
				st.tables = append(st.tables, it)
				if !p.accept(",") {
					break
				}
			}
		}
	case "FLUSH":
		st.all = p.accept("ALL")
		if p.accept("WAIT") {
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			st.wait = int(n)
		}
	case "ADD", "DROP":
		if err := p.expect("TABLE"); err != nil {
			return nil, err
		}
		st.action = t + " TABLE"
		if st.tables, err = p.fromToList(); err != nil {
			return nil, err
		}
	default:
		return nil, p.errf("unsupported ALTER REPLICATION action %s", t)
	}
	return st, nil
}

func (p *parser) setProp(system bool) (any, error) {
	if err := p.expect("SET"); err != nil {
		return nil, err
	}
	st := &setPropStmt{system: system}
	var err error
	if st.name, err = p.ident(); err != nil {
		return nil, err
	}
	if err := p.expect("="); err != nil {
		return nil, err
	}
	t := p.peek()
	switch t.kind {
	case tokNumber, tokPunct:
		if st.num, err = p.number(); err != nil {
			return nil, err
		}
		st.isNum = true
	case tokIdent, tokString:
		p.i++
		st.word = strings.ToUpper(t.text)
	default:
		return nil, p.errf("value expected")
	}
	return st, nil
}
