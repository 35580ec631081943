-- A minimal third source for tests: a list of notebooks (room each) and their pages (folder each).
-- Columns: key, entity, kind, parent_key, name, source_id, archived, orphaned, depth, attributes
SELECT 'notes:book:' || b.id AS key, 'notes:book:' || b.id AS entity, 'room' AS kind,
       NULL AS parent_key, b.title AS name, b.id AS source_id, b.closed AS archived,
       false AS orphaned, 0 AS depth, json_object('name', b.title)::VARCHAR AS attributes
FROM notes_data.books b
UNION ALL
SELECT 'notes:page:' || p.id, 'notes:page:' || p.id, 'folder', 'notes:book:' || p.book_id,
       p.title, p.id, false, false, 1, NULL
FROM notes_data.pages p
