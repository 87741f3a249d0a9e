// Client compatibility check for deltagres: the PostgreSQL JDBC driver (pgjdbc).
//
// Same checks as ../python_clients.py, plus DatabaseMetaData.getTables/getColumns:
//   javac -cp /usr/share/java/postgresql.jar -d /tmp/dgjava ClientCheck.java
//   DG_HOST=127.0.0.1 DG_PORT=5433 java -cp /tmp/dgjava:/usr/share/java/postgresql.jar ClientCheck [-v]
//
// Prints one `PASS jdbc ...` / `FAIL jdbc...: [step] reason` line per check group; exits 1 if any failed.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

public class ClientCheck {
    static final String SCHEMA = "c_jdbc";
    static final String T = SCHEMA + ".t";
    static final Date D = Date.valueOf("2024-01-15");
    static final Timestamp TS = Timestamp.valueOf("2024-01-15 10:30:45");
    static final BigDecimal AMOUNT = new BigDecimal("10.50");
    static final String MERGE = "MERGE INTO " + T + " AS t USING (VALUES (2, 'bob', 20.25), (3, 'carol', 30.00)) AS src (id, name, amount) "
            + "ON t.id = src.id "
            + "WHEN MATCHED THEN UPDATE SET name = src.name, amount = src.amount "
            + "WHEN NOT MATCHED THEN INSERT (id, name, amount) VALUES (src.id, src.name, src.amount)";

    static String step = "start";
    static boolean verbose = false;

    static void check(boolean ok, String msg) {
        if (!ok) throw new AssertionError(msg);
    }

    static void checkValue(Object got, Object exp, String where) {
        if (exp == null) {
            check(got == null, where + ": expected null, got " + got);
            return;
        }
        check(got != null && got.getClass() == exp.getClass(),
                where + ": expected " + exp.getClass().getSimpleName() + " " + exp + ", got "
                        + (got == null ? "null" : got.getClass().getName() + " " + got));
        check(Objects.equals(got, exp), where + ": expected " + exp + ", got " + got);
    }

    static void checkRows(ResultSet rs, Object[][] expected, String what) throws SQLException {
        int i = 0;
        while (rs.next()) {
            check(i < expected.length, what + ": more than " + expected.length + " rows");
            for (int j = 0; j < expected[i].length; j++) {
                checkValue(rs.getObject(j + 1), expected[i][j], what + " row " + i + " col " + (j + 1));
            }
            i++;
        }
        check(i == expected.length, what + ": expected " + expected.length + " rows, got " + i);
    }

    static Connection connect() throws SQLException {
        String host = System.getenv().getOrDefault("DG_HOST", "127.0.0.1");
        String port = System.getenv().getOrDefault("DG_PORT", "5433");
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/postgres?user=deltagres");
    }

    /** Connect, create the table, insert, read back, MERGE, time travel, error. */
    static void dataChecks(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement()) {
            step = "setup";
            st.execute("CREATE SCHEMA IF NOT EXISTS " + SCHEMA);
            st.execute("DROP TABLE IF EXISTS " + T);
            st.execute("CREATE TABLE " + T + " (id BIGINT NOT NULL, name TEXT, amount DECIMAL(12,2), d DATE, ts TIMESTAMP)");
        }
        step = "insert with parameters";
        try (PreparedStatement ps = conn.prepareStatement(
                "INSERT INTO " + T + " (id, name, amount, d, ts) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)")) {
            ps.setLong(1, 1L);
            ps.setString(2, "alice");
            ps.setBigDecimal(3, AMOUNT);
            ps.setDate(4, D);
            ps.setTimestamp(5, TS);
            ps.setLong(6, 2L);
            ps.setNull(7, Types.VARCHAR);
            ps.setNull(8, Types.NUMERIC);
            ps.setNull(9, Types.DATE);
            ps.setNull(10, Types.TIMESTAMP);
            int n = ps.executeUpdate();
            check(n == 2, "insert update count " + n);
        }
        Object[] row1 = {1L, "alice", AMOUNT, D, TS};
        Object[] row2 = {2L, null, null, null, null};
        String select = "SELECT id, name, amount, d, ts FROM " + T + " WHERE id >= ? ORDER BY id";
        step = "select";
        try (PreparedStatement ps = conn.prepareStatement(select)) {
            ps.setLong(1, 0L);
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                int[] want = {Types.BIGINT, Types.VARCHAR, Types.NUMERIC, Types.DATE, Types.TIMESTAMP};
                for (int j = 0; j < want.length; j++) {
                    check(md.getColumnType(j + 1) == want[j], "result column " + md.getColumnName(j + 1) + " type "
                            + md.getColumnType(j + 1) + " (" + md.getColumnTypeName(j + 1) + "), expected " + want[j]);
                }
                checkRows(rs, new Object[][] {row1, row2}, "select");
            }
        }
        step = "prepared statement reuse";
        // pgjdbc switches to a named server-side statement (and binary results) from the 5th execution.
        try (PreparedStatement ps = conn.prepareStatement(select)) {
            for (int k = 1; k <= 7; k++) {
                ps.setLong(1, 0L);
                try (ResultSet rs = ps.executeQuery()) {
                    checkRows(rs, new Object[][] {row1, row2}, "select, execution " + k);
                }
            }
        }
        step = "merge";
        try (Statement st = conn.createStatement()) {
            int n = st.executeUpdate(MERGE);
            check(n == 2, "merge update count " + n);
        }
        try (PreparedStatement ps = conn.prepareStatement(select)) {
            ps.setLong(1, 0L);
            try (ResultSet rs = ps.executeQuery()) {
                checkRows(rs, new Object[][] {row1, {2L, "bob", new BigDecimal("20.25"), null, null},
                        {3L, "carol", new BigDecimal("30.00"), null, null}}, "after merge");
            }
        }
        step = "time travel";
        try (PreparedStatement ps = conn.prepareStatement("SELECT id, name FROM " + T + " VERSION AS OF 1 WHERE id >= ? ORDER BY id")) {
            ps.setLong(1, 0L);
            try (ResultSet rs = ps.executeQuery()) {
                checkRows(rs, new Object[][] {{1L, "alice"}, {2L, null}}, "version as of 1");
            }
        }
        step = "error";
        try (Statement st = conn.createStatement()) {
            try {
                st.executeQuery("SELECT * FROM " + SCHEMA + ".no_such_table").close();
                check(false, "missing table did not raise");
            } catch (SQLException e) {
                check("42P01".equals(e.getSQLState()), "expected SQLSTATE 42P01, got " + e.getSQLState() + ": " + e.getMessage());
            }
        }
        step = "after error";
        try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM " + T + " WHERE id > ?")) {
            ps.setLong(1, 1L);
            try (ResultSet rs = ps.executeQuery()) {
                checkRows(rs, new Object[][] {{2L}}, "after error");
            }
        }
    }

    /**
     * DatabaseMetaData.getTables / getColumns on the table dataChecks created, and the precision and
     * scale of a DECIMAL(12,2) result column. Each part runs even if an earlier one failed.
     */
    static void metadataChecks(Connection conn) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (Check c : new Check[] {ClientCheck::getTablesCheck, ClientCheck::getColumnsCheck, ClientCheck::resultMetadataCheck,
                ClientCheck::keysIndexesAndPrivilegesCheck}) {
            try {
                c.run(conn);
            } catch (Throwable e) {
                problems.add("[" + step + "] " + (e.getClass().getSimpleName() + ": " + e.getMessage()).replaceAll("\\s+", " "));
            }
        }
        step = "metadata";
        check(problems.isEmpty(), String.join("; ", problems));
    }

    static void resultMetadataCheck(Connection conn) throws SQLException {
        step = "ResultSetMetaData";
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT amount FROM " + T)) {
            ResultSetMetaData md = rs.getMetaData();
            check(md.getPrecision(1) == 12 && md.getScale(1) == 2,
                    "DECIMAL(12,2) result column: precision " + md.getPrecision(1) + ", scale " + md.getScale(1));
        }
    }

    /**
     * What DBeaver and DataGrip ask when they open a table: keys, indexes, the best row identifier
     * and privileges. Delta tables have none of the first three, so those answers are empty; the
     * point is that each call runs (they use `_pg_expandarray`, `pg_settings.max_index_keys`,
     * `pg_class.relacl`).
     */
    static void keysIndexesAndPrivilegesCheck(Connection conn) throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        String[] names = {"getPrimaryKeys", "getImportedKeys", "getExportedKeys", "getIndexInfo", "getBestRowIdentifier",
                "getTablePrivileges", "getColumnPrivileges", "getCrossReference"};
        for (String name : names) {
            step = name;
            ResultSet rs = switch (name) {
                case "getPrimaryKeys" -> md.getPrimaryKeys(null, SCHEMA, "t");
                case "getImportedKeys" -> md.getImportedKeys(null, SCHEMA, "t");
                case "getExportedKeys" -> md.getExportedKeys(null, SCHEMA, "t");
                case "getIndexInfo" -> md.getIndexInfo(null, SCHEMA, "t", false, true);
                case "getBestRowIdentifier" -> md.getBestRowIdentifier(null, SCHEMA, "t", DatabaseMetaData.bestRowSession, true);
                case "getTablePrivileges" -> md.getTablePrivileges(null, SCHEMA, "t");
                case "getColumnPrivileges" -> md.getColumnPrivileges(null, SCHEMA, "t", "%");
                default -> md.getCrossReference(null, SCHEMA, "t", null, SCHEMA, "t");
            };
            int rows = 0;
            try (rs) {
                while (rs.next()) rows++;
            }
            if (!name.endsWith("Privileges")) check(rows == 0, name + " returned " + rows + " rows for a Delta table");
        }
        step = "getSchemas";
        List<String> schemas = new ArrayList<>();
        try (ResultSet rs = md.getSchemas()) {
            while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
        }
        check(schemas.contains(SCHEMA), "getSchemas() = " + schemas);
    }

    static void getTablesCheck(Connection conn) throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        step = "getTables";
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = md.getTables(null, SCHEMA, "%", new String[] {"TABLE"})) {
            while (rs.next()) {
                tables.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
            }
        }
        check(tables.equals(List.of(SCHEMA + ".t:TABLE")), "getTables(" + SCHEMA + ") = " + tables);
    }

    static void getColumnsCheck(Connection conn) throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        step = "getColumns";
        List<String> cols = new ArrayList<>();
        try (ResultSet rs = md.getColumns(null, SCHEMA, "t", "%")) {
            while (rs.next()) {
                cols.add(rs.getInt("ORDINAL_POSITION") + " " + rs.getString("COLUMN_NAME") + " " + rs.getInt("DATA_TYPE") + " "
                        + rs.getString("TYPE_NAME") + " " + rs.getInt("COLUMN_SIZE") + "," + rs.getInt("DECIMAL_DIGITS") + " "
                        + rs.getString("IS_NULLABLE"));
            }
        }
        // Types: BIGINT=-5, VARCHAR=12, NUMERIC=2, DATE=91, TIMESTAMP=93. COLUMN_SIZE/DECIMAL_DIGITS only for amount.
        String[] want = {
            "1 id " + Types.BIGINT + " int8 NO",
            "2 name " + Types.VARCHAR + " text YES",
            "3 amount " + Types.NUMERIC + " numeric 12,2 YES",
            "4 d " + Types.DATE + " date YES",
            "5 ts " + Types.TIMESTAMP + " timestamp YES",
        };
        check(cols.size() == want.length, "getColumns returned " + cols);
        for (int j = 0; j < want.length; j++) {
            String[] w = want[j].split(" ");
            String[] g = cols.get(j).split(" ");
            boolean ok = g[0].equals(w[0]) && g[1].equals(w[1]) && g[2].equals(w[2]) && g[3].equals(w[3])
                    && g[5].equals(w[w.length - 1]) && (w.length == 5 || g[4].equals(w[4]));
            check(ok, "getColumns row " + j + ": got '" + cols.get(j) + "', expected '" + want[j] + "' (all: " + cols + ")");
        }
    }

    interface Check {
        void run(Connection c) throws Exception;
    }

    static int run(String name, Connection conn, Check c) {
        step = "start";
        try {
            c.run(conn);
            System.out.println("PASS " + name);
            return 0;
        } catch (Throwable e) {
            String msg = (e.getClass().getSimpleName() + ": " + e.getMessage()).replaceAll("\\s+", " ");
            if (e instanceof SQLException) msg += " (SQLSTATE " + ((SQLException) e).getSQLState() + ")";
            System.out.println("FAIL " + name + ": [" + step + "] " + msg);
            if (verbose) e.printStackTrace();
            return 1;
        }
    }

    // List, struct and map columns of a Delta table (Spark's ARRAY, STRUCT, MAP, ARRAY<ARRAY>,
    // ARRAY<STRUCT>) and the same values typed as the server sends them, asked of PostgreSQL 15
    // (PG_PORT, the oracle): pgjdbc must make the same Java objects of both.
    static final String NESTED_TABLE = "CREATE TABLE " + SCHEMA + ".nest AS SELECT ['a', 'b c'] AS tags, [1, 2] AS nums, "
            + "named_struct('x', 1, 'y', 'p q') AS point, map(['k'], [1]) AS attrs, [[1, 2], [3]] AS grid, "
            + "[named_struct('n', 1, 's', 'a'), named_struct('n', 2, 's', 'b')] AS items";
    static final String NESTED_SELECT = "SELECT tags, nums, point, attrs, grid, items FROM " + SCHEMA + ".nest";
    static final String NESTED_PG = "SELECT ARRAY['a', 'b c'] AS tags, ARRAY[1, 2]::int8[] AS nums, "
            + "ROW(1::int8, 'p q'::text) AS point, '{\"k\": 1}'::jsonb AS attrs, '[[1, 2], [3]]'::jsonb AS grid, "
            + "ARRAY[ROW(1::int8, 'a'::text), ROW(2::int8, 'b'::text)] AS items";

    /** A nested row as comparable descriptions of what pgjdbc made of each column. */
    static List<String> nestedRow(Connection conn, String sql, boolean prepared) throws SQLException {
        try (PreparedStatement st = conn.prepareStatement(sql)) {
            if (prepared) st.setFetchSize(10);
            try (ResultSet rs = st.executeQuery()) {
                check(rs.next(), "no row: " + sql);
                List<String> out = new ArrayList<>();
                for (int i = 1; i <= 6; i++) {
                    Object v = rs.getObject(i);
                    if (v instanceof java.sql.Array) {
                        java.sql.Array a = (java.sql.Array) v;
                        out.add("Array<" + a.getBaseTypeName() + ">" + Arrays.deepToString((Object[]) a.getArray()));
                    } else if (v instanceof org.postgresql.util.PGobject) {
                        org.postgresql.util.PGobject o = (org.postgresql.util.PGobject) v;
                        out.add("PGobject<" + o.getType() + ">" + o.getValue());
                    } else {
                        out.add(v == null ? "null" : v.getClass().getName() + ":" + v);
                    }
                }
                return out;
            }
        }
    }

    /** Lists as java.sql.Array, maps and nested lists as jsonb PGobjects, structs as records. */
    static void nestedChecks(Connection conn) throws SQLException {
        step = "setup";
        try (Statement st = conn.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + SCHEMA + ".nest");
            st.execute(NESTED_TABLE);
        }
        String pgPort = System.getenv("PG_PORT");
        check(pgPort != null, "PG_PORT is not set: the nested check compares with PostgreSQL 15");
        String pgUser = System.getenv().getOrDefault("PG_USER", "tester");
        try (Connection pg = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres?user=" + pgUser)) {
            // Once plain, once past pgjdbc's prepareThreshold (5): server-prepared, binary transfer.
            for (int round = 0; round < 6; round++) {
                step = "nested columns, execution " + (round + 1);
                List<String> ours = nestedRow(conn, NESTED_SELECT, round > 0);
                List<String> theirs = nestedRow(pg, NESTED_PG, round > 0);
                check(ours.equals(theirs), "PostgreSQL gives " + theirs + ", got " + ours);
                check(ours.get(0).equals("Array<text>[a, b c]") && ours.get(1).equals("Array<int8>[1, 2]")
                        && ours.get(3).equals("PGobject<jsonb>{\"k\": 1}")
                        && ours.get(2).startsWith("PGobject<record>"), "native types: " + ours);
            }
        }
    }

    public static void main(String[] args) {
        verbose = Arrays.asList(args).contains("-v");
        int failed = 0;
        try (Connection conn = connect()) {
            failed += run("jdbc", conn, ClientCheck::dataChecks);
            failed += run("jdbc-metadata", conn, ClientCheck::metadataChecks);
            failed += run("jdbc-nested", conn, ClientCheck::nestedChecks);
        } catch (SQLException e) {
            System.out.println("FAIL jdbc: [connect] " + e.getMessage() + " (SQLSTATE " + e.getSQLState() + ")");
            failed++;
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
