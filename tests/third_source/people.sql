-- Room members of the test source: the owner of each notebook. Columns: room_key, email, name, role
SELECT 'notes:book:' || id AS room_key, owner_email AS email, owner_email AS name, 'owner' AS role
FROM notes_data.books
