-- The prices table itself is made by 010 (its materialized view prices arriving spans with it).
CREATE OR REPLACE VIEW {database}.execlog_llm_costs {on_cluster} AS {llm_costs_select};
