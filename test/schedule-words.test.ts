// workflows/schedule-words.ts: a schedule in words for the console's jobs page, or the expression itself when it
// cannot be said shortly. The rules: a time of day is said with its days ("every day at 02:30"), a frequency without
// "every day"; up to 4 times a day are listed; steps over the whole hour or day are said as steps; runs of 3 or more
// weekdays, months or days become ranges.
import { scheduleInWords } from '../workflows/schedule-words';

describe('schedules in words', () => {
  it.each([
    ['cron(30 2 * * ? *)', 'every day at 02:30'],
    ['cron(0 * * * ? *)', 'every hour at :00'],
    ['cron(0/15 * * * ? *)', 'every 15 minutes'],
    ['cron(0,15,30,45 * * * ? *)', 'every 15 minutes'],
    ['cron(0/30 * * * ? *)', 'every 30 minutes'],
    ['cron(* * * * ? *)', 'every minute'],
    ['cron(0/25 * * * ? *)', 'every hour at :00, :25, :50'],
    ['cron(0,10,20,30,40 * * * ? *)', '5 times an hour'],
    ['cron(0/7 * * * ? *)', '9 times an hour'],
    ['cron(0 9,17 ? * MON-FRI *)', 'Mon-Fri at 09:00 and 17:00'],
    ['cron(5 9,12,17 * * ? *)', 'every day at 09:05, 12:05 and 17:05'],
    ['cron(0 1/6 * * ? *)', 'every day at 01:00, 07:00, 13:00 and 19:00'],
    ['cron(0 0/7 * * ? *)', 'every day at 00:00, 07:00, 14:00 and 21:00'],
    ['cron(0 0/6 * * ? *)', 'every 6 hours at :00'],
    ['cron(1 0/6 * * ? *)', 'every 6 hours at :01'],
    ['cron(0 0/8 * * ? *)', 'every 8 hours at :00'],
    ['cron(* 9-17 ? * MON-FRI *)', 'Mon-Fri every minute from 09:00 to 17:59'],
    ['cron(0/5 9-17 ? * MON-FRI *)', 'Mon-Fri every 5 minutes from 09:00 to 17:55'],
    ['cron(0/20 9-17 * * ? *)', 'every 20 minutes from 09:00 to 17:40'],
    ['cron(0/15 22-23 * * ? *)', 'every 15 minutes from 22:00 to 23:45'],
    ['cron(5 9-17 * * ? *)', 'every hour at :05 from 09:00 to 17:00'],
    ['cron(0 0,1,2,3,4 * * ? *)', 'every hour at :00 from 00:00 to 04:00'],
    ['cron(0 23 L * ? *)', 'on the last day of the month at 23:00'],
    ['cron(0 8 LW * ? *)', 'on the last weekday of the month at 08:00'],
    ['cron(0 8 15W * ? *)', 'on the weekday nearest day 15 at 08:00'],
    ['cron(0 8 1,2,3,4 * ? *)', 'on day 1, 2, 3, 4 of the month at 08:00'],
    ['cron(0 8 1-5,10 * ? *)', 'on days 1-5, 10 at 08:00'],
    ['cron(0 8 1-31 * ? *)', 'every day at 08:00'],
    ['cron(0 8 ? * 1-7 *)', 'every day at 08:00'],
    ['cron(0 8 ? * MON,WED,FRI *)', 'Mon, Wed, Fri at 08:00'],
    ['cron(0 8 ? * 6L *)', 'on the last Fri of the month at 08:00'],
    ['cron(0 8 ? * 2#1 *)', 'on the 1st Mon of the month at 08:00'],
    ['cron(0 8 ? * 3#2 *)', 'on the 2nd Tue of the month at 08:00'],
    ['cron(0 8 ? * 2#3 *)', 'on the 3rd Mon of the month at 08:00'],
    ['cron(0 8 ? * 2#4 *)', 'on the 4th Mon of the month at 08:00'],
    ['cron(0 0 1 1,7 ? *)', 'on day 1 of the month at 00:00 in Jan, Jul'],
    ['cron(0 8 * 1-3,5 ? *)', 'every day at 08:00 in Jan-Mar, May'],
    ['cron(0 8 * * ? 2027)', 'every day at 08:00 (2027)'],
    ['cron(0 8 * * ? 2027-2029)', 'every day at 08:00 (2027, 2028, 2029)'],
    ['cron(0 8 * * ? 2027-2030)', 'every day at 08:00'],
    ['rate(1 hour)', 'every hour'],
    ['rate(1 day)', 'every day'],
    ['rate(5 minutes)', 'every 5 minutes'],
    ['rate(2 days)', 'every 2 days'],
    ['at(2026-12-24T18:00:00)', 'once, at 2026-12-24 18:00'],
    // Every weekday's and month's name.
    ['cron(0 8 ? * SUN,TUE,THU,SAT *)', 'Sun, Tue, Thu, Sat at 08:00'],
    ['cron(0 8 ? * MON,WED,FRI *)', 'Mon, Wed, Fri at 08:00'],
    ['cron(0 8 1 1,3,5,7,9,11 ? *)', 'on day 1 of the month at 08:00 in Jan, Mar, May, Jul, Sep, Nov'],
    ['cron(0 8 1 2,4,6,8,10,12 ? *)', 'on day 1 of the month at 08:00 in Feb, Apr, Jun, Aug, Oct, Dec'],
    // Two neighbours are a list, three a range.
    ['cron(0 8 ? * MON,TUE *)', 'Mon, Tue at 08:00'],
    ['cron(0 8 ? * MON-WED,FRI,SAT *)', 'Mon-Wed, Fri, Sat at 08:00'],
    // Exactly 4 times an hour are listed; 4 times a day too.
    ['cron(1,2,3,4 * * * ? *)', 'every hour at :01, :02, :03, :04'],
    ['cron(0 1,2,3,4 * * ? *)', 'every day at 01:00, 02:00, 03:00 and 04:00'],
  ])('%s: %s', (expression, words) => {
    expect(scheduleInWords(expression)).toBe(words);
  });

  it.each([
    // Too irregular to say shortly: more than 4 times a day at no step, a step over part of the hours, a minute step
    // that does not divide the hour inside an hour range, or not a schedule at all.
    'cron(1,7,13,29,44 3,9 * * ? *)', 'cron(0/20 9,17 * * ? *)', 'cron(0 0/5 * * ? *)', 'cron(0,15,30 0-23/2 * * ? *)', 'cron(bad)', 'every day',
  ])('%s: said as itself', (expression) => {
    expect(scheduleInWords(expression)).toBe(expression);
  });
});
