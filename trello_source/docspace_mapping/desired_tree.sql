-- Desired DocSpace tree for Trello (read through trello_source.DOCSPACE_SPEC): board → room; (list → folder when grouped); card → folder.
-- Parameters: $grouped (bool), $nested_subtasks (unused: Trello has no subtasks); $parts, $part
-- (int): a big account is read in parts (docspace_destination.desired): every room in each, and the
-- folders of the boards whose rank (by id) modulo $parts is $part ($parts = 1: all of them).
-- Columns: key, entity, kind, parent_key, name, source_id, archived, orphaned, depth, attributes
-- (attributes: JSON {name, labels} of a board, matched by room-template rules)
WITH boards AS (
    SELECT b.id, b.name,
           coalesce(b.closed, false) OR coalesce(b.is_deleted, false) AS archived
    FROM trello_data.boards b
),
part_boards AS (  -- the rooms whose folders this part reads
    SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS room_rank FROM boards) r
    WHERE r.room_rank % $parts = $part
),
board_labels AS (
    SELECT l.id_board, to_json(list(l.name ORDER BY l.name)) AS labels
    FROM trello_data.labels l
    WHERE coalesce(l.name, '') <> ''
    GROUP BY l.id_board
)
SELECT 'trello:board:' || b.id AS key, 'trello:board:' || b.id AS entity, 'room' AS kind,
       NULL AS parent_key, b.name, b.id AS source_id, b.archived, false AS orphaned, 0 AS depth,
       json_object('name', b.name, 'labels', t.labels)::VARCHAR AS attributes
FROM boards b LEFT JOIN board_labels t ON t.id_board = b.id
UNION ALL
SELECT 'trello:list:' || l.id, 'trello:list:' || l.id, 'folder', 'trello:board:' || l.id_board,
       l.name, l.id, false, false, 1, NULL
FROM trello_data.lists l
WHERE $grouped AND l.id_board IN (SELECT id FROM part_boards)
UNION ALL
SELECT 'trello:card:' || c.id, 'trello:card:' || c.id, 'folder',
       CASE WHEN $grouped THEN 'trello:list:' || c.id_list ELSE 'trello:board:' || c.id_board END,
       c.name, c.id, false, coalesce(c.is_deleted, false), CASE WHEN $grouped THEN 2 ELSE 1 END, NULL
FROM trello_data.cards c
WHERE c.id_board IN (SELECT id FROM part_boards)
