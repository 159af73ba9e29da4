-- Why an answer may be weak (issue 21, answer quality; SQLite 0018): a JSON list of reason words on each
-- assistant message, written when the turn is saved (`no_source`: no knowledge passed the bot's
-- threshold; `fallback`: the answer failed and the visitor got the fallback message; `repeat`:
-- the question it answers repeats an earlier one of the conversation) and when the visitor asks
-- for a person after it (`handoff`). A thumbs down is the feedback column itself. The rule that
-- reads them is core/answer_quality.py. Existing answers get the two reasons their row shows.
ALTER TABLE messages ADD COLUMN weak_reasons TEXT NOT NULL DEFAULT '[]';
UPDATE messages SET weak_reasons = '["fallback"]' WHERE role = 'assistant' AND status = 'error';
UPDATE messages SET weak_reasons = '["no_source"]'
 WHERE role = 'assistant' AND status = 'complete' AND sources = '[]';
