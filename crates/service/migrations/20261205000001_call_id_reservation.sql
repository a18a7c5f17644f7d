-- Call ids are never given twice, across crashes too: the exchange reserves them a
-- block at a time and the reservation is committed before any reply naming one of
-- its ids leaves. At start-up new calls begin above the reservation.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
