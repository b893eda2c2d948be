-- Indexes for the analysts' views (sql/analytics_question_views.sql), as their plans over 1,000,000 orders
-- show them needed (benchmarks/analytics.py). A typical question reads one store's orders of some days.

-- An order's day (the UTC date of ordered_at, else imported_at): sales per day, lead times and the stock
-- cover's 28 days of sales read one store's days by it instead of every order of the store.
CREATE INDEX orders_store_day
    ON core.orders (store_id, ((coalesce(ordered_at, imported_at) AT TIME ZONE 'UTC')::date));

-- When each order was first confirmed (the lead times): one index entry per order instead of its whole history.
CREATE INDEX order_status_history_confirmed ON core.order_status_history (order_id, changed_at)
    WHERE field = 'sync_status' AND new_value = 'confirmed';
