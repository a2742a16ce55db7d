"""运维监控 · 统计分析: inspection indicators per site, and visit statistics from the gateway."""
