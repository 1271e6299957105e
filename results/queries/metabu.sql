-- MetaBu (sweeps/metabu.toml): per arm and recommender, the mean over the runs (2 task families x
-- seeds) of the held-out data sets' rank of the best configuration tried (3 neighbours' best, and
-- the nearest one's alone; 1 = best of the grid), its accuracy regret, and how many of the 10
-- nearest training data sets agree with the oracle's 10 (MetaBu and hand-crafted only).
-- Run with the sweep it reads (its trials as written are sweep_runs):
--   iclr query --sweep sweeps/metabu.toml "$(cat results/queries/metabu.sql)"
WITH v AS (
  SELECT sr.arm, r.id, f.key, f.value
  FROM runs r JOIN sweep_runs sr ON sr.id = r.id JOIN final_metrics f ON f.run_id = r.id
  WHERE r.status = 'done'
), rec(name) AS (VALUES ('oracle'), ('metabu'), ('handcrafted'), ('global'), ('random'))
SELECT v.arm, rec.name AS recommender, COUNT(DISTINCT v.id) AS runs,
       round(AVG(CASE WHEN v.key = 'rank_' || rec.name THEN v.value END), 3) AS rank_3,
       round(AVG(CASE WHEN v.key = 'rank1_' || rec.name THEN v.value END), 3) AS rank_1,
       round(AVG(CASE WHEN v.key = 'regret_' || rec.name THEN v.value END), 4) AS regret_3,
       round(AVG(CASE WHEN v.key = 'ndcg_test_' || rec.name THEN v.value END), 3) AS ndcg_test
FROM v CROSS JOIN rec
GROUP BY v.arm, rec.name
ORDER BY v.arm, rank_3;
