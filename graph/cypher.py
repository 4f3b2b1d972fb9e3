"""Every Cypher statement of the Neo4j store, as constants. Values always travel as parameters;
labels and relationship types come only from the fixed vocabulary below, never from user text."""
from __future__ import annotations

#: node labels and relationship types the store knows; anything else is refused before a query
LABELS = ("Level1", "Category", "Sector", "Field", "ProjectType", "Indicator",
          "Project", "Target", "BudgetUnit", "TargetTable", "Event", "User", "AuditEntry", "Setting",
          # the performance loop (loop/records.py)
          "Appraisal", "SpendingPlan", "ProgressReport", "Warning", "Evaluation", "Proposal")
EDGE_TYPES = ("PART_OF", "IN_CATEGORY", "IN_SECTOR", "IN_FIELD", "APPLIES_TO", "USES_INDICATOR",
              "BELONGS_TO", "OWNS", "HAS_TABLE", "HAS_ROW", "USES", "ABOUT", "BY", "OF_TYPE")

SCHEMA = (
    "CREATE CONSTRAINT znode_id IF NOT EXISTS FOR (n:ZNode) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT zload_seq IF NOT EXISTS FOR (l:ZLoad) REQUIRE l.seq IS UNIQUE",
    "CREATE CONSTRAINT zmeta_key IF NOT EXISTS FOR (m:ZMeta) REQUIRE m.key IS UNIQUE",
    "CREATE INDEX znode_label IF NOT EXISTS FOR (n:ZNode) ON (n._label)",
    "CREATE INDEX indicator_name IF NOT EXISTS FOR (n:Indicator) ON (n.name)",
    "CREATE FULLTEXT INDEX indicator_fulltext IF NOT EXISTS FOR (n:Indicator) "
    "ON EACH [n.name, n.synonyms_text, n.definition] OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}",
)
FULLTEXT_INDEX = "indicator_fulltext"

LOCK_META = ("MERGE (m:ZMeta {key: 'library'}) ON CREATE SET m.version = 0 "
             "SET m._lock = coalesce(m._lock, 0) + 1 RETURN m.version AS version")
VERSION = "OPTIONAL MATCH (m:ZMeta {key: 'library'}) RETURN coalesce(m.version, 0) AS version"
SET_VERSION = "MATCH (m:ZMeta {key: 'library'}) SET m.version = $version"
HASHES = "MATCH (n:ZNode) WHERE n.id IN $ids RETURN n.id AS id, n._hash AS hash"
CREATE_NODES = {lb: f"UNWIND $rows AS row CREATE (n:ZNode:{lb}) SET n = row.props" for lb in LABELS}
UPDATE_NODES = {lb: f"UNWIND $rows AS row MATCH (n:ZNode {{id: row.id}}) SET n = row.props SET n:{lb}"
                for lb in LABELS}
DELETE_OUT_EDGES = "MATCH (n:ZNode)-[r]->() WHERE n.id IN $ids DELETE r"
REMOVE_LABELS = "MATCH (n:ZNode) WHERE n.id IN $ids REMOVE " + ", ".join(f"n:{lb}" for lb in LABELS)
CREATE_EDGES = {t: "UNWIND $rows AS row MATCH (a:ZNode {id: row.src}) MATCH (b:ZNode {id: row.dst}) "
                   f"CREATE (a)-[:{t}]->(b)" for t in EDGE_TYPES}
NEXT_LOAD_SEQ = "OPTIONAL MATCH (l:ZLoad) RETURN coalesce(max(l.seq), 0) + 1 AS seq"
CREATE_LOAD = "CREATE (l:ZLoad) SET l = $rec"
HISTORY = "MATCH (l:ZLoad) RETURN l ORDER BY l.seq"
DELETE_HISTORY = "MATCH (l:ZLoad) DELETE l"
SET_VERSION_MERGE = "MERGE (m:ZMeta {key: 'library'}) SET m.version = $version"

_NODE_RETURN = ("OPTIONAL MATCH (n)-[r]->(m:ZNode) "
                "RETURN n.id AS id, n._label AS label, n._props AS props, "
                "collect(CASE WHEN r IS NULL THEN NULL ELSE [type(r), m.id] END) AS edges ORDER BY id")
GET_MANY = "MATCH (n:ZNode) WHERE n.id IN $ids " + _NODE_RETURN
_FILTER = ("MATCH (n:ZNode {_label: $label}) "
           "WHERE all(k IN keys($props) WHERE n[k] = $props[k]) "
           "AND all(l IN $links WHERE EXISTS { MATCH (n)-[r]->(m:ZNode {id: l.dst}) WHERE type(r) = l.type }) ")
COUNT = _FILTER + "RETURN count(n) AS total"
LIST = _FILTER + "WITH n ORDER BY n.id SKIP $offset LIMIT $limit " + _NODE_RETURN
ALL_NODES = "MATCH (n:ZNode) " + _NODE_RETURN
LIBRARY_NODES = "MATCH (n:ZNode) WHERE NOT n._label IN $work " + _NODE_RETURN

# work-graph commits: take the node's write lock first (SET), then read what the guard compares
LOCK_NODE = "MATCH (n:ZNode {id: $id}) SET n._lock = coalesce(n._lock, 0) + 1 RETURN n._props AS props"
NODE_EXISTS = "OPTIONAL MATCH (n:ZNode {id: $id}) RETURN n IS NOT NULL AS found"
OUT_EDGES = "MATCH (n:ZNode)-[r]->(m:ZNode) WHERE n.id IN $ids RETURN n.id AS src, type(r) AS type, m.id AS dst"
DELETE_EDGES = ("UNWIND $rows AS row MATCH (a:ZNode {id: row.src})-[r]->(b:ZNode {id: row.dst}) "
                "WHERE type(r) = row.type DELETE r")
MERGE_EDGES = {t: "UNWIND $rows AS row MATCH (a:ZNode {id: row.src}) MATCH (b:ZNode {id: row.dst}) "
                  f"MERGE (a)-[:{t}]->(b)" for t in EDGE_TYPES}
NEIGHBOURS = ("MATCH (n:ZNode {id: $id}) "
              "CALL (n) { MATCH (n)-[r]->(m:ZNode) RETURN type(r) AS edge, 'out' AS direction, m "
              "UNION ALL MATCH (n)<-[r]-(m:ZNode) RETURN type(r) AS edge, 'in' AS direction, m } "
              "RETURN edge, direction, m.id AS id ORDER BY direction DESC, edge, id")
# in batches: one transaction for a whole work graph (100k nodes) outgrows a small server's transaction memory
WIPE = ("MATCH (n) WHERE n:ZNode OR n:ZLoad OR n:ZMeta "
        "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS")
FULLTEXT_QUERY = ("CALL db.index.fulltext.queryNodes($index, $text, {limit: $limit}) YIELD node, score "
                  "WHERE node.status = 'active' RETURN node.id AS id, node.name AS name, score")
