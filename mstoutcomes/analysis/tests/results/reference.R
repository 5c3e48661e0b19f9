# Reference numbers for mstoutcomes.analysis, computed independently in R.
#
# Run from this directory:   Rscript reference.R > r_reference.txt
# Made with R 4.2.2 (Debian bookworm: r-base-core, r-cran-survival, r-cran-mass, r-cran-lme4,
# r-cran-mice). It reads the contract files in trial/ directly and derives the analysis
# variables itself (follow-up years, counts, days to first event, matched windows), so the
# Python frame building is checked as well as the estimators.
suppressMessages({
  library(survival)
  library(MASS)
  library(lme4)
  library(mice)
})
options(digits = 15)
out <- function(key, value) cat(sprintf("%s %.15g\n", key, value))

p <- read.csv("trial/participants.csv", stringsAsFactors = FALSE)
m <- read.csv("trial/measurements.csv", stringsAsFactors = FALSE)
e <- read.csv("trial/events.csv", stringsAsFactors = FALSE)
p$arm <- factor(p$arm, levels = c("MAU", "MST"))
p$site <- factor(p$site)
p$start <- as.Date(p$randomised_on)
p$end <- as.Date(p$followup_end)

value <- function(outcome, timepoint) {
  rows <- m[m$outcome == outcome & m$timepoint == timepoint, ]
  rows$value[match(p$participant_id, rows$participant_id)]
}
p$y0 <- value("sdq_total", "0m")
p$y6 <- value("sdq_total", "6m")
p$y12 <- value("sdq_total", "12m")
p$y18 <- value("sdq_total", "18m")
p$placed <- value("out_of_home", "18m")

# --- ANCOVA ---------------------------------------------------------------------------------
fit <- lm(y12 ~ arm + y0 + site, data = p)
s <- summary(fit)$coefficients
out("ancova.coef", s["armMST", 1]); out("ancova.se", s["armMST", 2])
out("ancova.p", s["armMST", 4]); out("ancova.df", fit$df.residual)
cc <- p[!is.na(p$y12) & !is.na(p$y0), ]
v <- tapply(cc$y12, cc$arm, var); n <- tapply(cc$y12, cc$arm, length)
pooled_sd <- sqrt(sum((n - 1) * v) / sum(n - 1))
out("ancova.pooled_sd", pooled_sd)
out("ancova.smd", s["armMST", 1] / pooled_sd)
out("ancova.n_MAU", n["MAU"]); out("ancova.n_MST", n["MST"])

# --- linear mixed model (random intercept, REML) --------------------------------------------
long <- rbind(
  data.frame(id = p$participant_id, arm = p$arm, site = p$site, y0 = p$y0, time = "6m", y = p$y6),
  data.frame(id = p$participant_id, arm = p$arm, site = p$site, y0 = p$y0, time = "12m", y = p$y12),
  data.frame(id = p$participant_id, arm = p$arm, site = p$site, y0 = p$y0, time = "18m", y = p$y18)
)
long <- long[complete.cases(long), ]
mm <- lmer(y ~ arm + y0 + factor(time) + site + (1 | id), data = long, REML = TRUE)
out("lmm.coef", fixef(mm)["armMST"])
out("lmm.se", sqrt(diag(as.matrix(vcov(mm))))[2])
out("lmm.re_var", as.data.frame(VarCorr(mm))$vcov[1])
out("lmm.resid_var", sigma(mm)^2)

# --- logistic regression with marginal risk difference and ratio ----------------------------
bin <- p[!is.na(p$placed), ]
lf <- glm(placed ~ arm + site, family = binomial, data = bin)
s <- summary(lf)$coefficients
out("logit.coef", s["armMST", 1]); out("logit.se", s["armMST", 2]); out("logit.p", s["armMST", 4])
X <- model.matrix(lf); beta <- coef(lf); V <- vcov(lf)
X0 <- X; X0[, "armMST"] <- 0; X1 <- X; X1[, "armMST"] <- 1
p0 <- plogis(X0 %*% beta); p1 <- plogis(X1 %*% beta)
r0 <- mean(p0); r1 <- mean(p1)
g0 <- colMeans(X0 * as.vector(p0 * (1 - p0))); g1 <- colMeans(X1 * as.vector(p1 * (1 - p1)))
out("logit.risk0", r0); out("logit.risk1", r1)
out("logit.rd", r1 - r0); out("logit.rd_se", sqrt(t(g1 - g0) %*% V %*% (g1 - g0)))
glrr <- g1 / r1 - g0 / r0
out("logit.log_rr", log(r1 / r0)); out("logit.log_rr_se", sqrt(t(glrr) %*% V %*% glrr))

# --- negative binomial with log follow-up years offset --------------------------------------
offences <- e[e$event == "offence", ]
offences$date <- as.Date(offences$date)
idx <- match(offences$participant_id, p$participant_id)
inside <- offences$date >= p$start[idx] & offences$date <= p$end[idx]
p$count <- as.vector(table(factor(offences$participant_id[inside], levels = p$participant_id)))
p$years <- as.numeric(p$end - p$start) / 365.25
nb <- glm.nb(count ~ arm + site + offset(log(years)), data = p, control = glm.control(epsilon = 1e-12, maxit = 100))
s <- summary(nb)$coefficients
out("nb.coef", s["armMST", 1]); out("nb.se", s["armMST", 2]); out("nb.theta", nb$theta)
out("nb.coef_site2", s["siteS02", 1]); out("nb.se_site2", s["siteS02", 2])

# --- Kaplan–Meier, log-rank and Cox (Efron) -------------------------------------------------
first <- tapply(offences$date[inside], offences$participant_id[inside], min)
fd <- as.Date(first[p$participant_id], origin = "1970-01-01")
p$event <- as.integer(!is.na(fd))
p$days <- ifelse(p$event == 1, as.numeric(fd - p$start), as.numeric(p$end - p$start))
cx <- coxph(Surv(days, event) ~ arm + site, data = p, ties = "efron")
s <- summary(cx)$coefficients
out("cox.coef", s["armMST", "coef"]); out("cox.se", s["armMST", "se(coef)"])
out("cox.coef_site2", s["siteS02", "coef"]); out("cox.se_site2", s["siteS02", "se(coef)"])
lr <- survdiff(Surv(days, event) ~ arm, data = p)
out("logrank.chisq", lr$chisq)
km <- summary(survfit(Surv(days, event) ~ arm, data = p), times = c(90, 365))
out("km.MAU.90", km$surv[1]); out("km.MAU.365", km$surv[2])
out("km.MST.90", km$surv[3]); out("km.MST.365", km$surv[4])
out("km.MAU.365.lower", km$lower[2]); out("km.MAU.365.upper", km$upper[2])

# --- subgroup interaction (logistic, arm x sex): Wald test on the interaction term ----------
lf2 <- glm(placed ~ arm * sex + site, family = binomial, data = bin)
b <- coef(lf2)["armMST:sexmale"]; vb <- vcov(lf2)["armMST:sexmale", "armMST:sexmale"]
out("interaction.logit_sex.chisq", b^2 / vb)
out("interaction.logit_sex.p", pchisq(b^2 / vb, 1, lower.tail = FALSE))
af <- lm(y12 ~ arm * age_band + y0 + site, data = p)
b <- coef(af)["armMST:age_band14-17"]; vb <- vcov(af)["armMST:age_band14-17", "armMST:age_band14-17"]
out("interaction.ancova_age.chisq", b^2 / vb)

# --- service evaluation (MST arm): 0m to 12m ------------------------------------------------
mst <- p[p$arm == "MST" & !is.na(p$y0) & !is.na(p$y12), ]
tt <- t.test(mst$y12, mst$y0, paired = TRUE)
out("prepost.n", nrow(mst)); out("prepost.mean_change", unname(tt$estimate))
out("prepost.ci_low", tt$conf.int[1]); out("prepost.ci_high", tt$conf.int[2])
out("prepost.t", unname(tt$statistic)); out("prepost.t_p", tt$p.value)
wt <- suppressWarnings(wilcox.test(mst$y12, mst$y0, paired = TRUE))
out("prepost.wilcoxon_v", unname(wt$statistic)); out("prepost.wilcoxon_p", wt$p.value)
d <- mst$y12 - mst$y0
out("prepost.dz", mean(d) / sd(d))
nn <- nrow(mst)
out("prepost.g_av", (1 - 3 / (4 * (nn - 1) - 1)) * mean(d) / ((sd(mst$y0) + sd(mst$y12)) / 2))
sdiff <- sqrt(2) * sd(mst$y0) * sqrt(1 - 0.80)
rci <- d / sdiff
improved <- rci < -1.96
recovered <- improved & mst$y0 >= 17 & mst$y12 < 17
out("rci.recovered", sum(recovered)); out("rci.improved", sum(improved & !recovered))
out("rci.deteriorated", sum(rci > 1.96)); out("rci.unchanged", sum(abs(rci) <= 1.96))

# small exact case (n < 50, no ties): exact Wilcoxon p
small <- data.frame(before = c(21, 18, 25, 19, 23, 17, 20, 26, 22, 24),
                    after = c(15.5, 17.2, 18.1, 19.9, 14.4, 16.8, 20.7, 19.3, 18.6, 13.0))
ws <- wilcox.test(small$after, small$before, paired = TRUE)
out("wilcoxon_exact.v", unname(ws$statistic)); out("wilcoxon_exact.p", ws$p.value)

# matched 365-day windows before and after the start, MST arm
pm <- p[p$arm == "MST", ]
len <- pmin(as.numeric(pm$end - pm$start), 365)
j <- match(offences$participant_id, pm$participant_id)
ok <- !is.na(j)
off <- as.numeric(offences$date[ok] - pm$start[j[ok]])
before <- sum(off < 0 & off >= -len[j[ok]]); after <- sum(off >= 0 & off < len[j[ok]])
py <- sum(len) / 365.25
pt <- poisson.test(c(after, before), c(py, py))
out("rates.before", before); out("rates.after", after); out("rates.years", py)
out("rates.ratio", unname(pt$estimate)); out("rates.ci_low", pt$conf.int[1])
out("rates.ci_high", pt$conf.int[2]); out("rates.p", pt$p.value)

# Wilson interval (prop.test without continuity correction): 41 of 48
pr <- prop.test(41, 48, correct = FALSE)
out("wilson.low", pr$conf.int[1]); out("wilson.high", pr$conf.int[2])

# --- Rubin's rules: mice::pool.scalar -------------------------------------------------------
Q <- c(-1.21, -0.98, -1.35, -1.02, -1.17)
U <- c(0.181, 0.176, 0.190, 0.169, 0.185)
pl <- pool.scalar(Q, U, n = 150, k = 6)
out("rubin.qbar", pl$qbar); out("rubin.ubar", pl$ubar); out("rubin.b", pl$b)
out("rubin.t", pl$t); out("rubin.df", pl$df); out("rubin.r", pl$r); out("rubin.fmi", pl$fmi)
pl <- pool.scalar(Q, U, n = Inf, k = 1)
out("rubin_inf.df", pl$df); out("rubin_inf.fmi", pl$fmi)
