using FaceDistill.Config;

namespace FaceDistill.Training;

/// <summary>
/// Learning rate per optimisation step: linear warm-up from 0 over <c>warmup</c> steps, then
/// cosine: <c>lr_min + (lr − lr_min)·(1 + cos(π·p))/2</c> with p the fraction of post-warm-up steps done;
/// step: <c>lr·γ^k</c> after k milestones; constant. A pure function of the step, so resuming needs no state.
/// </summary>
public sealed record LrSchedule(
    string Type,
    double BaseLr,
    long TotalSteps,
    long WarmupSteps,
    long[] MilestoneSteps,
    double Gamma,
    double MinLrFraction
)
{
    public static LrSchedule From(ScheduleConfig s, double baseLr, long stepsPerEpoch, int epochs) =>
        new(
            s.Type,
            baseLr,
            stepsPerEpoch * epochs,
            (long)Math.Round(s.WarmupEpochs * stepsPerEpoch),
            s.Milestones.Select(m => (long)Math.Round(m * stepsPerEpoch)).ToArray(),
            s.Gamma,
            s.MinLrFraction
        );

    public double At(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps)
            return BaseLr * (step + 1) / WarmupSteps;
        switch (Type)
        {
            case "cosine":
                double span = Math.Max(1, TotalSteps - WarmupSteps);
                double p = Math.Clamp((step - WarmupSteps) / span, 0, 1);
                double min = BaseLr * MinLrFraction;
                return min + (BaseLr - min) * (1 + Math.Cos(Math.PI * p)) / 2;
            case "step":
                return BaseLr * Math.Pow(Gamma, MilestoneSteps.Count(m => step >= m));
            default:
                return BaseLr;
        }
    }
}
