-- A validation batch usually covers transactions recorded together, so one chunk updates
-- most rows of a page at once, in one transaction: the page must hold a new version of
-- each of them (their old versions are not dead until that transaction commits) for the
-- updates to stay HOT. At 80 % only about a fifth fit and the rest moved to other pages
-- with new index entries; at 45 % all of them fit. New pages only: existing ones keep
-- their layout until rewritten.
ALTER TABLE transactions SET (fillfactor = 45);
