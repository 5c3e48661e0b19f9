# The equivalent of the full plan in R, for bench/analysis_bench.py: Rscript analysis_bench.R DIR M
suppressMessages({library(survival); library(MASS); library(lme4); library(mice)})
args <- commandArgs(trailingOnly = TRUE); dir <- args[1]; M <- as.integer(args[2])
p <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE)
m <- read.csv(file.path(dir, "measurements.csv"), stringsAsFactors = FALSE)
e <- read.csv(file.path(dir, "events.csv"), stringsAsFactors = FALSE)
p$arm <- factor(p$arm, levels = c("MAU", "MST")); p$site <- factor(p$site)
p$start <- as.Date(p$randomised_on); p$end <- as.Date(p$followup_end)
value <- function(o, t) { r <- m[m$outcome == o & m$timepoint == t, ]; r$value[match(p$participant_id, r$participant_id)] }
p$y0 <- value("sdq_total", "0m"); p$y6 <- value("sdq_total", "6m"); p$y12 <- value("sdq_total", "12m")
p$y18 <- value("sdq_total", "18m"); p$placed <- value("out_of_home", "18m")
e$date <- as.Date(e$date); i <- match(e$participant_id, p$participant_id)
inside <- e$date >= p$start[i] & e$date <= p$end[i]
p$count <- as.vector(table(factor(e$participant_id[inside], levels = p$participant_id)))
p$years <- as.numeric(p$end - p$start) / 365.25
first <- tapply(e$date[inside], e$participant_id[inside], min)
fd <- as.Date(first[p$participant_id], origin = "1970-01-01")
p$event <- as.integer(!is.na(fd)); p$days <- ifelse(p$event == 1, as.numeric(fd - p$start), as.numeric(p$end - p$start))
fits <- function(d) {
  long <- rbind(data.frame(id = d$participant_id, arm = d$arm, site = d$site, y0 = d$y0, time = "6m", y = d$y6),
                data.frame(id = d$participant_id, arm = d$arm, site = d$site, y0 = d$y0, time = "12m", y = d$y12),
                data.frame(id = d$participant_id, arm = d$arm, site = d$site, y0 = d$y0, time = "18m", y = d$y18))
  list(lm(y12 ~ arm + y0 + site, data = d), glm(placed ~ arm + site, binomial, data = d),
       lmer(y ~ arm + y0 + factor(time) + site + (1 | id), data = long[complete.cases(long), ]))
}
cc <- fits(p)
nb <- glm.nb(count ~ arm + site + offset(log(years)), data = p)
cx <- coxph(Surv(days, event) ~ arm + site, data = p); lr <- survdiff(Surv(days, event) ~ arm, data = p)
km <- survfit(Surv(days, event) ~ arm, data = p)
for (sg in c("sex", "age_band")) {
  glm(as.formula(paste("placed ~ arm *", sg, "+ site")), binomial, data = p)
  lm(as.formula(paste("y12 ~ arm *", sg, "+ y0 + site")), data = p)
}
imp_data <- data.frame(arm = as.numeric(p$arm == "MST"), model.matrix(~ site, p)[, -1], y0 = p$y0, y6 = p$y6,
                       y12 = p$y12, y18 = p$y18, placed = p$placed)
imp <- mice(imp_data, m = M, method = "pmm", maxit = 10, printFlag = FALSE, seed = 20260101)
est <- sapply(1:M, function(k) {
  d <- p; c <- complete(imp, k); d[, c("y0", "y6", "y12", "y18", "placed")] <- c[, c("y0", "y6", "y12", "y18", "placed")]
  f <- fits(d); c(coef(f[[1]])[2], vcov(f[[1]])[2, 2], coef(f[[2]])[2], vcov(f[[2]])[2, 2], fixef(f[[3]])[2], as.matrix(vcov(f[[3]]))[2, 2])
})
for (j in c(1, 3, 5)) pool.scalar(est[j, ], est[j + 1, ], n = nrow(p), k = 43)
cat("done\n")
