-- LUMP's table in the deck's layout: one row per method and objective, kNN accuracy and kNN
-- forgetting (percent, mean ± sample sd over seeds) after the last task, Split MNIST then Split
-- Fashion-MNIST. Multitask trains jointly: it has an accuracy and no forgetting.
-- Run with the sweep it reads (its trials as written are sweep_runs):
--   iclr query --sweep sweeps/lump_table.toml "$(cat results/queries/lump_table.sql)"
WITH per_run AS (
  SELECT sr.arm, r.dataset,
         100.0 * (SELECT value FROM final_metrics WHERE run_id = r.id AND key = 'knn_avg_accuracy') AS acc,
         100.0 * (SELECT value FROM final_metrics WHERE run_id = r.id AND key = 'knn_forgetting') AS fgt
  FROM runs r JOIN sweep_runs sr ON sr.id = r.id
  WHERE r.status = 'done' AND sr.arm IS NOT NULL
),
cell AS (
  SELECT arm, dataset, COUNT(*) AS n,
         printf('%.2f ± %.2f', AVG(acc), COALESCE(stdev(acc), 0)) AS acc,
         CASE WHEN COUNT(fgt) = 0 THEN '—' ELSE printf('%.2f ± %.2f', AVG(fgt), COALESCE(stdev(fgt), 0)) END AS fgt
  FROM per_run GROUP BY arm, dataset
)
SELECT CASE WHEN m.arm LIKE 'supervised-%' THEN 'supervised' ELSE 'simsiam' END AS block,
       substr(m.arm, instr(m.arm, '-') + 1) AS method,
       m.acc AS mnist_acc, m.fgt AS mnist_forgetting,
       f.acc AS fmnist_acc, f.fgt AS fmnist_forgetting,
       m.n AS seeds
FROM cell m LEFT JOIN cell f ON f.arm = m.arm AND f.dataset = 'fashion_mnist'
WHERE m.dataset = 'mnist'
ORDER BY block DESC, CASE method WHEN 'finetune' THEN 0 WHEN 'si' THEN 1 WHEN 'der' THEN 2 WHEN 'agem' THEN 3
                                 WHEN 'pnn' THEN 4 WHEN 'multitask' THEN 5 ELSE 6 END;
