using FaceDistill.Cli;
using FaceDistill.Core;

// facedistill: thin command line over the FaceDistill library. Errors the user can act on print one line, exit 2.
try
{
    return Commands.Run(args);
}
catch (Exception e)
{
    return Commands.Report(e);
}
