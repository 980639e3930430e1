-- What an expense came to in the home currency when it was routed, and the exchange rate that said
-- so: the policy compared this amount with its limits. home_currency is '' for expenses routed
-- before conversion existed; home_amount_minor is NULL when no usable rate was known; rate is ''
-- when none was used (the amount was in the home currency, or no rate was known).
ALTER TABLE expenses ADD COLUMN home_currency TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN home_amount_minor INTEGER CHECK (home_amount_minor > 0);
ALTER TABLE expenses ADD COLUMN rate TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN rate_source TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN rate_date DATE;

-- The last rates document fetched from each EXPENSEBOT_RATES_URL, as fetched, so that a restart
-- without network still converts.
CREATE TABLE rate_documents (
    url        TEXT PRIMARY KEY,
    body       TEXT        NOT NULL,
    fetched_at TIMESTAMP   NOT NULL
);
