-- Forgetting of task A (task 0) per model width: acc_A after A minus acc_A after B, mean and sd over seeds.
WITH f AS (
  SELECT r.id, r.seed,
         (SELECT value FROM params WHERE run_id = r.id AND key = 'model.width') AS width,
         (SELECT value FROM params WHERE run_id = r.id AND key = 'method.lr') AS lr,
         CAST((SELECT value FROM attributes WHERE run_id = r.id AND key = 'param_count') AS INTEGER) AS params,
         MAX(CASE WHEN a.after_task = 0 AND a.task = 0 THEN a.accuracy END) AS acc_a_after_a,
         MAX(CASE WHEN a.after_task = 1 AND a.task = 0 THEN a.accuracy END) AS acc_a_after_b,
         MAX(CASE WHEN a.after_task = 1 AND a.task = 1 THEN a.accuracy END) AS acc_b_after_b
  FROM runs r JOIN accuracy_matrix a ON a.run_id = r.id
  WHERE r.status = 'done' AND r.method = 'finetune'
  GROUP BY r.id
)
SELECT width, lr, params, COUNT(*) AS seeds,
       ROUND(AVG(acc_a_after_a - acc_a_after_b), 4) AS forgetting,
       ROUND(SQRT(MAX(AVG((acc_a_after_a - acc_a_after_b) * (acc_a_after_a - acc_a_after_b))
                      - AVG(acc_a_after_a - acc_a_after_b) * AVG(acc_a_after_a - acc_a_after_b), 0)
                  * COUNT(*) / MAX(COUNT(*) - 1, 1)), 4) AS forgetting_sd,
       ROUND(AVG(acc_a_after_b), 4) AS final_acc_a,
       ROUND(AVG(acc_b_after_b), 4) AS final_acc_b
FROM f GROUP BY width, lr ORDER BY lr, width;
